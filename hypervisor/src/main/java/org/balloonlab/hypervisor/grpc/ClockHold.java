package org.balloonlab.hypervisor.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.balloonlab.hypervisor.clock.ClockHolder;
import org.balloonlab.hypervisor.clock.LabClock;
import org.balloonlab.proto.HoldClockReply;
import org.balloonlab.proto.HoldClockRequest;

/**
 * One caller's hold on the lab clock (the launcher's): each request names a lab time to run to, each reply says
 * the clock is held there. The hold lasts while the stream is open; when it ends, however it ends, the clock runs
 * again, so a launcher that dies cannot freeze the lab.
 */
final class ClockHold implements StreamObserver<HoldClockRequest>, ClockHolder {
  private final LabClockEdge edge;
  private final StreamObserver<HoldClockReply> replies;
  private boolean closed;

  ClockHold(LabClockEdge edge, StreamObserver<HoldClockReply> replies) {
    this.edge = edge;
    this.replies = replies;
  }

  @Override
  public void onNext(HoldClockRequest request) {
    LabClock clock = edge.clock();
    if (clock == null) {
      end(Status.FAILED_PRECONDITION.withDescription("this hypervisor runs free (--lab-clock free): it has no lab "
          + "clock to hold"));
      return;
    }
    if (request.getUntilNs() < 0) {
      end(Status.INVALID_ARGUMENT.withDescription("a lab time cannot be negative, got " + request.getUntilNs()
          + " ns"));
      return;
    }
    try {
      clock.hold(this, request.getUntilNs());
    } catch (IllegalArgumentException e) {
      end(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
    } catch (IllegalStateException e) {
      end(Status.FAILED_PRECONDITION.withDescription(e.getMessage()));
    }
  }

  /** Told on the clock's thread that the clock is held at {@code labTimeNs}. */
  @Override
  public synchronized void heldAt(long labTimeNs) {
    if (!closed) {
      replies.onNext(HoldClockReply.newBuilder().setLabTimeNs(labTimeNs).setClock(edge.state()).build());
    }
  }

  private synchronized void end(Status status) {
    release();
    if (!closed) {
      closed = true;
      replies.onError(status.asRuntimeException());
    }
  }

  private void release() {
    LabClock clock = edge.clock();
    if (clock != null) {
      clock.release(this);
    }
  }

  @Override
  public synchronized void onError(Throwable t) {
    release();
    closed = true;
  }

  @Override
  public synchronized void onCompleted() {
    release();
    if (!closed) {
      closed = true;
      replies.onCompleted();
    }
  }
}
