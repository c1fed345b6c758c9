package org.balloonlab.guest.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.Optional;

/**
 * The hypervisor's answer that a VM is powered off, as the guest recognises it: a {@code FAILED_PRECONDITION}
 * status (or {@code DATA_LOSS} or {@code RESOURCE_EXHAUSTED}, when the hypervisor powered it off because its host
 * swap lost a page or could not page it) carrying a {@code google.rpc.ErrorInfo} detail with reason
 * {@value #REASON} in domain {@value #DOMAIN}, whose metadata names the VM ({@code vm}) and says why it is off
 * ({@code why}).
 *
 * <p>The guest reads the detail, not the status text: the text is for people and may be reworded, and other
 * refusals share the code (a second attach of the same VM, a stale balloon session), so the code alone says
 * nothing. A {@code FAILED_PRECONDITION} without the detail is some other precondition.
 *
 * @param vm the VM's name, as the hypervisor gave it
 * @param why why it is off, such as {@code powered off by the operator}
 */
public record PoweredOff(String vm, String why) {
  /** {@code ErrorInfo.reason} of a powered-off VM. */
  public static final String REASON = "VM_POWERED_OFF";
  /** {@code ErrorInfo.domain} of BalloonLab's own reasons. */
  public static final String DOMAIN = "balloonlab.org";

  /**
   * What {@code failure} (or one of its causes) says about a powered-off VM.
   *
   * @return the VM and why it is off, or empty when {@code failure} reports anything else
   */
  public static Optional<PoweredOff> from(Throwable failure) {
    Status.Code code = Status.fromThrowable(failure).getCode();
    if (code != Status.Code.FAILED_PRECONDITION && code != Status.Code.DATA_LOSS
        && code != Status.Code.RESOURCE_EXHAUSTED) {
      return Optional.empty();
    }
    com.google.rpc.Status details;
    try {
      details = StatusProto.fromThrowable(failure);
    } catch (IllegalArgumentException e) {
      // The details' code disagrees with the status's: not a detail this hypervisor would have sent.
      return Optional.empty();
    }
    if (details == null) {
      return Optional.empty();
    }
    for (Any detail : details.getDetailsList()) {
      if (!detail.is(ErrorInfo.class)) {
        continue;
      }
      ErrorInfo info;
      try {
        info = detail.unpack(ErrorInfo.class);
      } catch (InvalidProtocolBufferException e) {
        continue;
      }
      if (REASON.equals(info.getReason()) && DOMAIN.equals(info.getDomain())) {
        return Optional.of(new PoweredOff(info.getMetadataOrDefault("vm", ""), info.getMetadataOrDefault("why", "")));
      }
    }
    return Optional.empty();
  }
}
