package org.balloonlab.hypervisor.grpc;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.balloonlab.proto.BalloonPagesReply;

/**
 * Retries of a balloon driver's Lock and Unlock ({@code BalloonPagesRequest.request_id}), answered without a turn
 * of their own on the lab clock. A driver retries when its deadline passed before the answer came: either its
 * call was applied and the answer lost, or the call still waits for its VM's turn. In the first case the retry is
 * answered at once from what the machine remembers of the call; in the second it waits for the original and gets
 * its answer. Either way the sequencer sees the VM's operations exactly as without the retry, so the lab's order
 * (and its simulated results) does not change.
 *
 * <p>One call per VM is tracked, the one whose turn is awaited: a driver keeps one in flight. Entries live only
 * while their call is queued. Thread-safe; the machine's lock is taken inside this object's and never the other
 * way round.
 */
final class BalloonRetries {
  /** A call queued for its VM's turn, and the retries waiting for its answer. */
  private static final class Queued {
    final long requestId;
    final List<StreamObserver<BalloonPagesReply>> retries = new ArrayList<>();

    Queued(long requestId) {
      this.requestId = requestId;
    }
  }

  private final Map<Integer, Queued> queued = new HashMap<>();

  /** What became of a call offered with {@link #offer}. */
  enum Offer {
    /** A new call: queue it, and call {@link #applied} once its turn ran. */
    NEW,
    /** A retry, taken care of here: it waits for its original or was answered. */
    HANDLED
  }

  /**
   * Offers a call with {@code requestId} (not 0). A retry of a queued call joins it; a retry of an applied call
   * is answered at once with {@code repeat}'s reply, the very answer the original got; anything else is new and is
   * tracked, and a refusal is left to the call's turn, where it lands where the lab's order puts it.
   *
   * @param repeat the machine's remembered answer, {@code null} if the id was not applied yet or is refused
   */
  Offer offer(int vmId, long requestId, StreamObserver<BalloonPagesReply> responses,
              Supplier<BalloonPagesReply> repeat) {
    BalloonPagesReply reply;
    synchronized (this) {
      Queued q = queued.get(vmId);
      if (q != null && q.requestId == requestId) {
        q.retries.add(responses);
        return Offer.HANDLED;
      }
      reply = repeat.get();
      if (reply == null) {
        queued.put(vmId, new Queued(requestId));
        return Offer.NEW;
      }
    }
    deliver(responses, reply, null);
    return Offer.HANDLED;
  }

  /** The call {@code requestId} of {@code vmId} ran its turn: answers the retries that waited for it. */
  void applied(int vmId, long requestId, BalloonPagesReply reply, StatusRuntimeException refused) {
    List<StreamObserver<BalloonPagesReply>> waiting;
    synchronized (this) {
      Queued q = queued.get(vmId);
      if (q == null || q.requestId != requestId) {
        return;
      }
      queued.remove(vmId);
      waiting = q.retries;
    }
    for (StreamObserver<BalloonPagesReply> r : waiting) {
      deliver(r, reply, refused);
    }
  }

  /** The call never reached its turn (its queue was full): a later one with the same id is new again. */
  synchronized void dropped(int vmId, long requestId) {
    Queued q = queued.get(vmId);
    if (q != null && q.requestId == requestId && q.retries.isEmpty()) {
      queued.remove(vmId);
    }
  }

  static void deliver(StreamObserver<BalloonPagesReply> responses, BalloonPagesReply reply,
                      StatusRuntimeException refused) {
    try {
      if (refused != null) {
        responses.onError(refused);
      } else {
        responses.onNext(reply);
        responses.onCompleted();
      }
    } catch (RuntimeException e) {
      // The caller gave up on this call (its deadline passed): its retry has the answer.
    }
  }
}
