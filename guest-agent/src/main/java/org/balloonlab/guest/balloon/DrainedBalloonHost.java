package org.balloonlab.guest.balloon;

import org.balloonlab.balloon.driver.BalloonHost;
import org.balloonlab.balloon.driver.BalloonHostException;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.guest.os.PhysicalMemory;

/**
 * The hypervisor's balloon service as a guest on the lab clock must call it: with no batch in flight. The
 * hypervisor's sequencer applies a VM's balloon calls in order with its batches (docs/lab-clock.md), and it can
 * only know that order if nothing is left on the access stream when a call goes out; so each call first drains the
 * access pipeline, which also makes the vCPU's clock exact. The driven driver and deflate-on-OOM both call from
 * the vCPU, the thread that owns the pipeline. The doorbell stream is a read and needs no drain (a driven driver
 * never opens it anyway).
 *
 * @param host the service itself
 * @param memory the guest's access pipeline, drained before each call
 */
public record DrainedBalloonHost(BalloonHost host, PhysicalMemory memory) implements BalloonHost {

  @Override
  public Session start() {
    drain();
    return host.start();
  }

  @Override
  public Target getTarget(long sessionId, long balloonPages) {
    drain();
    return host.getTarget(sessionId, balloonPages);
  }

  @Override
  public Target lock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses) {
    drain();
    return host.lock(sessionId, requestId, pfns, count, statuses);
  }

  @Override
  public Target unlock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses) {
    drain();
    return host.unlock(sessionId, requestId, pfns, count, statuses);
  }

  @Override
  public Target reportStats(long sessionId, MemoryStats stats) {
    drain();
    return host.reportStats(sessionId, stats);
  }

  /**
   * Flushes the access pipeline. If the access stream failed (the hypervisor went away, or powered the VM off), the
   * call is not made and the driver sees a host that cannot be reached, which it counts and logs in one line; the
   * vCPU then meets the stream's failure itself on its next access and the guest ends as it does for any failure
   * of the stream, with no stack trace from the driver's round.
   */
  private void drain() {
    try {
      memory.flush();
    } catch (RuntimeException e) {
      // The pipeline's own failure, whatever its transport: the call cannot be ordered with the batches any more.
      throw new BalloonHostException(BalloonHostException.Kind.UNAVAILABLE,
          "the VM's access stream failed before the call: " + e.getMessage(), e);
    }
  }

  @Override
  public AutoCloseable listenDoorbell(long sessionId, Runnable ring) {
    return host.listenDoorbell(sessionId, ring);
  }

  @Override
  public void awaitRetry(long nanos) {
    host.awaitRetry(nanos); // no batch is in flight while it waits: the retry follows the drain of the first try
  }
}
