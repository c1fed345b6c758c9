package org.balloonlab.balloon.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.balloonlab.balloon.driver.BalloonHostException;
import org.balloonlab.balloon.driver.BalloonHostException.Kind;

/** The one place where the balloon service's gRPC statuses become {@link BalloonHostException}s. */
final class StatusMapping {
  private StatusMapping() {}

  /**
   * FAILED_PRECONDITION means a stale session; NOT_FOUND and PERMISSION_DENIED a VM or credential the
   * hypervisor refuses; INVALID_ARGUMENT a malformed request. Anything else (UNAVAILABLE, DEADLINE_EXCEEDED,
   * CANCELLED, INTERNAL, ...) is treated as "the hypervisor did not answer": the driver retries next round.
   */
  static BalloonHostException toHostException(String call, StatusRuntimeException e) {
    Status status = e.getStatus();
    Kind kind = switch (status.getCode()) {
      case FAILED_PRECONDITION -> Kind.STALE_SESSION;
      case NOT_FOUND, PERMISSION_DENIED -> Kind.DENIED;
      case INVALID_ARGUMENT -> Kind.INVALID;
      default -> Kind.UNAVAILABLE;
    };
    String description = status.getDescription();
    return new BalloonHostException(kind, "BalloonService/" + call + " failed: " + status.getCode()
        + (description == null ? "" : " (" + description + ")"), e);
  }

  /** A reply the driver cannot use, such as the wrong number of page statuses. */
  static BalloonHostException malformed(String call, String what) {
    return new BalloonHostException(Kind.INVALID, "BalloonService/" + call + " answered " + what, null);
  }
}
