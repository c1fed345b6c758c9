package org.balloonlab.balloon.driver;

import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.kernel.MemoryStats;

/**
 * The driver's view of the hypervisor's balloon service, in plain Java. {@code grpc.GrpcBalloonHost} speaks it
 * over the private channel; tests use fakes.
 *
 * <p>Methods throw {@link BalloonHostException} when the hypervisor cannot be reached or refuses the call as a
 * whole (a stale session, a bad credential); per-page outcomes come back as statuses.
 */
public interface BalloonHost {

  /** Per-page outcome of a lock or unlock: the wire's {@code BalloonPageStatus} less its unspecified value. */
  enum PageStatus {
    OK, INVALID, ALREADY_LOCKED, NOT_LOCKED, DUPLICATE, REFUSED, RESET
  }

  /**
   * What every reply carries.
   *
   * @param targetPages the balloon target
   * @param reset the hypervisor lost track of the balloon: free every page without telling it, start over
   * @param requestedMode the mode the operator asked for, or {@code null}
   */
  record Target(long targetPages, boolean reset, DriverMode requestedMode) {}

  /**
   * An open session.
   *
   * @param batched whether batched lock/unlock was granted; if not, {@code maxBatchPages} is 1
   * @param doorbell whether the doorbell was granted
   * @param stats whether stats reports were granted
   */
  record Session(long id, int maxBatchPages, boolean batched, boolean doorbell, boolean stats, Target target) {
    /** Pages per lock or unlock: the smaller of the driver's {@code batchPages} and what the session granted. */
    public int batchLimit(int batchPages) {
      int granted = !batched ? 1 : maxBatchPages > 0 ? maxBatchPages : batchPages;
      return Math.max(1, Math.min(batchPages, granted));
    }
  }

  /** Opens a session, asking for batched lock, doorbell and stats. */
  Session start();

  Target getTarget(long sessionId, long balloonPages);

  /**
   * Locks {@code count} PFNs; {@code statuses[i]} receives the outcome of {@code pfns[i]}.
   *
   * @param requestId the call's id within the session (1, 2, 3, ...), so a retry with the same id and pages lands
   *     once ({@code BalloonPagesRequest.request_id}); 0 for none
   */
  Target lock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses);

  /** Unlocks {@code count} PFNs, as {@link #lock} locks them. */
  Target unlock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses);

  Target reportStats(long sessionId, MemoryStats stats);

  /**
   * Listens to the doorbell: {@code ring} runs (on a transport thread) whenever the target or requested mode
   * changes. Returns a handle that stops listening.
   */
  AutoCloseable listenDoorbell(long sessionId, Runnable ring);

  /**
   * Waits before a lock or unlock that got no answer is sent again ({@link BalloonHostException.Kind#UNAVAILABLE}).
   * A host across a network waits that long on the wall clock, for the network, not for the model; the default, a
   * host in the same process, does not wait.
   */
  default void awaitRetry(long nanos) {}
}
