package org.balloonlab.hypervisor.machine;

import java.util.Optional;

/**
 * A request the machine refuses, with the reason a caller can act on. The transport maps each reason to a gRPC
 * status in one place; the domain never sees gRPC types. A refused request has changed nothing; an INTERNAL one
 * powered its VM off.
 *
 * <p>A refusal because the VM is powered off is a FAILED_PRECONDITION like others (DATA_LOSS or RESOURCE_EXHAUSTED
 * when the host swap failed under it), but it also says so in
 * {@link #poweredOff()}, with the VM and why it went: its guest should stop rather than retry, and it should not
 * have to recognise that from the message text.
 */
public final class MachineException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why a request was refused. */
  public enum Reason {
    INVALID_ARGUMENT,
    NOT_FOUND,
    ALREADY_EXISTS,
    PERMISSION_DENIED,
    FAILED_PRECONDITION,
    RESOURCE_EXHAUSTED,
    /** A page of the VM was lost: the host swap could not read it back. */
    DATA_LOSS,
    /**
     * Not a refusal: applying a request failed inside the hypervisor (a bug, an {@link Error}). The VM it was for
     * has been powered off with all its memory returned ({@code docs/design.md}, "No zombie VMs").
     */
    INTERNAL
  }

  /**
   * The VM a request was for is powered off.
   *
   * @param vmName its name
   * @param why why it was powered off, as its guest is told
   */
  public record PoweredOff(String vmName, String why) {}

  private final Reason reason;
  private final transient PoweredOff poweredOff;

  public MachineException(Reason reason, String message) {
    this(reason, message, null);
  }

  private MachineException(Reason reason, String message, PoweredOff poweredOff) {
    super(message);
    this.reason = reason;
    this.poweredOff = poweredOff;
  }

  public Reason reason() {
    return reason;
  }

  /** Set when the request was refused because its VM is powered off. */
  public Optional<PoweredOff> poweredOff() {
    return Optional.ofNullable(poweredOff);
  }

  /** FAILED_PRECONDITION for a request on a VM that is off; the message names the VM and why it went. */
  /** FAILED_PRECONDITION for a request on a VM that is off; the message names the VM and why it went. */
  static MachineException poweredOff(String message, String vmName, String why) {
    return poweredOff(Reason.FAILED_PRECONDITION, message, vmName, why);
  }

  /**
   * A refusal with {@code reason} because the VM is off: a VM that went for a reason of its own says so in the code
   * too (DATA_LOSS when the host swap lost one of its pages, RESOURCE_EXHAUSTED when one could not be paged out).
   */
  static MachineException poweredOff(Reason reason, String message, String vmName, String why) {
    return new MachineException(reason, message, new PoweredOff(vmName, why));
  }

  static MachineException invalid(String message) {
    return new MachineException(Reason.INVALID_ARGUMENT, message);
  }
}
