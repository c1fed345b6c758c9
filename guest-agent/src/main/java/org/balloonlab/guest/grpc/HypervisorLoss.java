package org.balloonlab.guest.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Optional;

/**
 * The guest lost its hypervisor: the connection was reset, or went silent until the keepalive gave it up (a
 * network partition, a hypervisor machine that froze), or the hypervisor did not answer in time. gRPC reports all
 * of these as {@code UNAVAILABLE} or {@code DEADLINE_EXCEEDED}, codes the hypervisor never uses for a refusal,
 * unlike a VM powered off under its guest ({@link PoweredOff}) or a batch it refused. There is nobody left to power
 * the VM off with: the hypervisor releases it itself once it notices (its own keepalive, or the broken stream).
 *
 * <p>Times are wall-clock times: this is about the network, never about the model.
 *
 * @param hypervisor the address the guest was given, {@code host:port}
 * @param lastHeardMillis when the hypervisor last sent the guest anything (epoch milliseconds)
 * @param noticedMillis when the connection was given up (epoch milliseconds)
 * @param status what gRPC said
 */
public record HypervisorLoss(String hypervisor, long lastHeardMillis, long noticedMillis, Status status) {
  /** The longest part of gRPC's description that goes into the line. */
  private static final int MAX_DESCRIPTION = 160;

  /**
   * What {@code failure} says about a lost hypervisor.
   *
   * @param lastHeardMillis when the hypervisor last sent anything ({@link RemotePhysicalMemory#lastHeardMillis()})
   * @param failedAtMillis when the stream failed ({@link RemotePhysicalMemory#failedAtMillis()}), 0 for now
   * @return the loss, or empty when {@code failure} is a refusal by a hypervisor that is still there
   */
  public static Optional<HypervisorLoss> from(StatusRuntimeException failure, String hypervisor,
                                              long lastHeardMillis, long failedAtMillis) {
    Status.Code code = failure.getStatus().getCode();
    if (code != Status.Code.UNAVAILABLE && code != Status.Code.DEADLINE_EXCEEDED) {
      return Optional.empty();
    }
    return Optional.of(new HypervisorLoss(hypervisor, lastHeardMillis,
        failedAtMillis > 0 ? failedAtMillis : System.currentTimeMillis(), failure.getStatus()));
  }

  /**
   * The one line a user reads: which hypervisor, since when nothing came from it, how long it took to notice and
   * what gRPC said, for example {@code vm1 lost its hypervisor 10.0.0.1:7400 since 2026-11-29T18:34:50.123Z (its last
   * answer; given up 15.2 s later: UNAVAILABLE Keepalive failed. The connection is likely gone)}.
   */
  public String line(String vmName) {
    String why = status.getDescription() == null ? "" : " " + status.getDescription();
    if (why.length() > MAX_DESCRIPTION) {
      why = why.substring(0, MAX_DESCRIPTION) + "...";
    }
    return String.format(Locale.ROOT, "%s lost its hypervisor %s since %s (its last answer; given up %.1f s later: "
            + "%s%s)", vmName, hypervisor, Instant.ofEpochMilli(lastHeardMillis).truncatedTo(ChronoUnit.MILLIS),
        Math.max(0, noticedMillis - lastHeardMillis) / 1000.0, status.getCode(), why.replace('\n', ' '));
  }
}
