package org.balloonlab.hypervisor.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import org.balloonlab.proto.BalloonPagesReply;
import org.junit.jupiter.api.Test;

/**
 * How retries find their answer without a turn of their own on the lab clock: a retry of a call still queued
 * waits for it, a retry of an applied call is answered at once, and a call that could not be queued leaves no
 * trace a retry would wait on.
 */
class BalloonRetriesTest {
  static final BalloonPagesReply REPLY = BalloonPagesReply.newBuilder().build();

  /** Records what a caller was told. */
  static final class Caller implements StreamObserver<BalloonPagesReply> {
    final List<Object> told = new ArrayList<>();

    @Override
    public void onNext(BalloonPagesReply value) {
      told.add(value);
    }

    @Override
    public void onError(Throwable t) {
      told.add(Status.fromThrowable(t).getCode());
    }

    @Override
    public void onCompleted() {
      told.add("completed");
    }
  }

  private final BalloonRetries retries = new BalloonRetries();

  @Test
  void aRetryOfAQueuedCallWaitsForItsAnswer() {
    Caller original = new Caller();
    Caller retry = new Caller();
    assertEquals(BalloonRetries.Offer.NEW, retries.offer(1, 7, original, () -> null));

    assertEquals(BalloonRetries.Offer.HANDLED, retries.offer(1, 7, retry, () -> fail("the original is queued")));
    assertEquals(List.of(), retry.told);

    retries.applied(1, 7, REPLY, null);
    assertEquals(List.of(REPLY, "completed"), retry.told);
    assertEquals(List.of(), original.told, "the original is answered by its own turn");
  }

  @Test
  void aRetryOfAnAppliedCallIsAnsweredAtOnce() {
    retries.offer(1, 7, new Caller(), () -> null);
    retries.applied(1, 7, REPLY, null);
    Caller retry = new Caller();

    assertEquals(BalloonRetries.Offer.HANDLED, retries.offer(1, 7, retry, () -> REPLY));

    assertEquals(List.of(REPLY, "completed"), retry.told);
  }

  @Test
  void aRefusalReachesTheRetriesThatWaited() {
    retries.offer(1, 7, new Caller(), () -> null);
    Caller retry = new Caller();
    retries.offer(1, 7, retry, () -> null);

    retries.applied(1, 7, null, Status.FAILED_PRECONDITION.asRuntimeException());

    assertEquals(List.of(Status.Code.FAILED_PRECONDITION), retry.told);
  }

  @Test
  void otherVmsAndNewIdsAreNew() {
    retries.offer(1, 7, new Caller(), () -> null);
    assertEquals(BalloonRetries.Offer.NEW, retries.offer(2, 7, new Caller(), () -> null));
    assertEquals(BalloonRetries.Offer.NEW, retries.offer(1, 8, new Caller(), () -> null));
  }

  @Test
  void aCallThatCouldNotBeQueuedLeavesNothingToWaitOn() {
    retries.offer(1, 7, new Caller(), () -> null);
    retries.dropped(1, 7);

    assertEquals(BalloonRetries.Offer.NEW, retries.offer(1, 7, new Caller(), () -> null));
  }
}
