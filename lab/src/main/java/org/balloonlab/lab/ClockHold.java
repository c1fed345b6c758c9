package org.balloonlab.lab;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.balloonlab.proto.HoldClockReply;
import org.balloonlab.proto.HoldClockRequest;
import org.balloonlab.proto.LabClockState;

/**
 * The launcher's hold on a lockstep hypervisor's lab clock: one {@code HoldClock} stream for the whole run
 * ({@code docs/lab-clock.md}, "The launcher as holder"). Each {@link #runTo} names the next lab time at which the
 * launcher has something to do; the clock runs there and stops, and every VM waits at that boundary until the next
 * request, so what the launcher reads and changes meanwhile happens at that simulated instant, however long it
 * takes in wall time. Closing the stream lets the clock run on by itself.
 *
 * <p>Replies and the stream's end arrive on a gRPC thread and are handed over through a queue; the launcher's
 * thread waits on it in short steps so that a Ctrl-C or a hypervisor that died ends the wait. Running to a lab time
 * has no wall-clock deadline (at pace 1x a minute of lab time takes a minute, and the clock waits for the slowest
 * guest, up to the straggler grace); a hypervisor cut off by a silent partition ends the stream through the
 * channel's keepalive ({@link ManagementClient}), and the hypervisor's keepalive releases the hold on its side.
 */
final class ClockHold implements RunClock {
  private static final long POLL_MILLIS = 20;
  /** The hypervisor answers the first request at once: its clock stands at 0 until a guest joins. */
  private static final Duration FIRST_REPLY = Duration.ofSeconds(30);

  /** The stream ended: a {@link Throwable} from the hypervisor, or this marker if it completed. */
  private static final Object COMPLETED = new Object();

  private final BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
  private final StreamObserver<HoldClockRequest> requests;
  private LabClockState last;
  /** The lab time the clock is held at, or -1 before the first reply. */
  private long heldNs = -1;
  private boolean ended;

  private ClockHold(ManagementClient management) {
    this.requests = management.async().holdClock(new StreamObserver<>() {
      @Override
      public void onNext(HoldClockReply reply) {
        replies.add(reply);
      }

      @Override
      public void onError(Throwable t) {
        replies.add(t);
      }

      @Override
      public void onCompleted() {
        replies.add(COMPLETED);
      }
    });
  }

  /**
   * Takes hold of a lockstep hypervisor's clock where it stands (lab time 0 before any guest is powered on).
   *
   * @throws IOException if another client holds the clock, or the hypervisor refuses or does not answer
   */
  static ClockHold open(ManagementClient management, BooleanSupplier giveUp)
      throws IOException, InterruptedException {
    ClockHold hold = new ClockHold(management);
    long deadline = System.nanoTime() + FIRST_REPLY.toNanos();
    if (hold.runTo(0, () -> giveUp.getAsBoolean() || System.nanoTime() > deadline) < 0) {
      hold.close();
      throw new IOException(giveUp.getAsBoolean() ? "interrupted while taking hold of the lab clock"
          : "the hypervisor did not answer HoldClock within " + FIRST_REPLY.toSeconds() + " s");
    }
    return hold;
  }

  @Override
  public long runTo(long ns, BooleanSupplier giveUp) throws IOException, InterruptedException {
    if (ended) {
      throw new IOException("the hypervisor ended the hold on the lab clock");
    }
    if (ns <= heldNs) {
      // The clock stands there already: nothing to ask (a request for the time held gets no new reply).
      return heldNs;
    }
    requests.onNext(HoldClockRequest.newBuilder().setUntilNs(ns).build());
    while (true) {
      Object r = replies.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
      if (r instanceof HoldClockReply reply) {
        last = reply.getClock();
        heldNs = reply.getLabTimeNs();
        return heldNs;
      }
      if (r != null) {
        ended = true;
        throw failure(r);
      }
      if (giveUp.getAsBoolean()) {
        return -1;
      }
    }
  }

  private static IOException failure(Object r) {
    if (r instanceof Throwable t) {
      Status s = Status.fromThrowable(t);
      return new IOException("the hypervisor ended the hold on the lab clock: " + s.getCode()
          + (s.getDescription() == null ? "" : " " + s.getDescription()), new StatusRuntimeException(s));
    }
    return new IOException("the hypervisor ended the hold on the lab clock");
  }

  @Override
  public boolean holds() {
    return true;
  }

  @Override
  public LabClockState lastState() {
    return last;
  }

  @Override
  public void close() {
    if (!ended) {
      ended = true;
      try {
        requests.onCompleted();
      } catch (IllegalStateException alreadyClosed) {
        // The call ended on its own meanwhile.
      }
    }
  }
}
