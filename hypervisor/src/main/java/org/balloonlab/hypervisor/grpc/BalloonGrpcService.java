package org.balloonlab.hypervisor.grpc;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.hypervisor.machine.BalloonPageStatus;
import org.balloonlab.hypervisor.machine.BalloonReply;
import org.balloonlab.hypervisor.machine.BalloonSession;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineException;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.proto.BalloonCapability;
import org.balloonlab.proto.BalloonCredentials;
import org.balloonlab.proto.BalloonDoorbellRequest;
import org.balloonlab.proto.BalloonGetTargetRequest;
import org.balloonlab.proto.BalloonPagesReply;
import org.balloonlab.proto.BalloonPagesRequest;
import org.balloonlab.proto.BalloonServiceGrpc;
import org.balloonlab.proto.BalloonStartRequest;
import org.balloonlab.proto.BalloonStartResponse;
import org.balloonlab.proto.BalloonStatsRequest;
import org.balloonlab.proto.BalloonTargetReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The balloon driver's private channel. Every call is authenticated with the VM's credential, so a driver acts
 * only on its own VM; every call delegates to {@link Machine}. The doorbell streams are this service's own: the
 * machine rings them whenever a VM's balloon changes.
 */
final class BalloonGrpcService extends BalloonServiceGrpc.BalloonServiceImplBase implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BalloonGrpcService.class);
  private final Machine machine;
  private final BalloonDoorbells doorbells;
  private final LabClockEdge clock;
  private final BalloonRetries retries = new BalloonRetries();
  private volatile InjectedFaults faults = InjectedFaults.none();
  private ScheduledExecutorService delayedReplies;

  BalloonGrpcService(Machine machine, LabClockEdge clock) {
    this.machine = machine;
    this.clock = clock;
    this.doorbells = new BalloonDoorbells(id -> {
      BalloonReply reply = machine.balloonReplyOrNull(id);
      return reply == null ? null : ProtoMapping.toProto(reply);
    }, machine::balloonHungUp);
    machine.onBalloonChange(id -> {
      doorbells.ring(id);
      clock.ring(id);
    });
  }

  /**
   * Answers a driver's call in its VM's turn on the lab clock: the call changes or reads the VM's balloon, so it
   * is ordered with the VM's batches. The caller is authenticated first, so a stray client cannot fill another
   * VM's queue; the call itself checks again, since the VM may be gone by its turn.
   */
  private <T> void inTurn(BalloonCredentials credentials, StreamObserver<T> responses, Runnable call) {
    Vm vm;
    try {
      vm = authenticate(credentials);
    } catch (MachineException e) {
      responses.onError(StatusMapping.toStatus(e));
      return;
    }
    clock.forVm(vm.id(), responses, call);
  }

  /** Faults to inject from now on ({@code --inject}). */
  void inject(InjectedFaults injected) {
    this.faults = injected;
  }

  /** Ends every doorbell stream and stops ringing; held-back answers are dropped. */
  @Override
  public void close() {
    doorbells.close();
    synchronized (this) {
      if (delayedReplies != null) {
        delayedReplies.shutdownNow();
      }
    }
  }

  /** Answers a new session with the capabilities granted (all three that were asked for) and the target. */
  @Override
  public void start(BalloonStartRequest request, StreamObserver<BalloonStartResponse> responses) {
    inTurn(request.getVm(), responses, () -> StatusMapping.answer(responses, () -> {
      Vm vm = authenticate(request.getVm());
      List<BalloonCapability> granted = new ArrayList<>();
      for (BalloonCapability c : request.getCapabilitiesList()) {
        if (c != BalloonCapability.BALLOON_CAPABILITY_UNSPECIFIED && c != BalloonCapability.UNRECOGNIZED
            && !granted.contains(c)) {
          granted.add(c);
        }
      }
      BalloonSession session = machine.openBalloonSession(vm,
          granted.contains(BalloonCapability.BALLOON_CAPABILITY_BATCHED_LOCK),
          granted.contains(BalloonCapability.BALLOON_CAPABILITY_DOORBELL),
          granted.contains(BalloonCapability.BALLOON_CAPABILITY_STATS));
      return BalloonStartResponse.newBuilder()
          .setSessionId(session.id())
          .addAllGranted(granted)
          .setMaxBatchPages(session.maxBatchPages())
          .setTarget(ProtoMapping.toProto(session.reply()))
          .build();
    }));
  }

  /** Answers the current target. */
  @Override
  public void getTarget(BalloonGetTargetRequest request, StreamObserver<BalloonTargetReply> responses) {
    inTurn(request.getVm(), responses, () -> StatusMapping.answer(responses, () -> {
      if (request.getBalloonPages() < 0) {
        throw StatusMapping.invalid("a balloon cannot hold " + request.getBalloonPages() + " pages");
      }
      return ProtoMapping.toProto(machine.balloonTarget(authenticate(request.getVm()), request.getSessionId()));
    }));
  }

  /** Answers one status per PFN locked, and the target. */
  @Override
  public void lock(BalloonPagesRequest request, StreamObserver<BalloonPagesReply> responses) {
    pages(request, responses, true);
  }

  /** Answers one status per PFN unlocked, and the target. */
  @Override
  public void unlock(BalloonPagesRequest request, StreamObserver<BalloonPagesReply> responses) {
    pages(request, responses, false);
  }

  /**
   * A Lock or Unlock. With a request id, a retry is answered without a turn of its own ({@link BalloonRetries});
   * a new call is applied in the VM's turn, and an injected fault may hold its answer back.
   */
  private void pages(BalloonPagesRequest request, StreamObserver<BalloonPagesReply> responses, boolean lock) {
    Vm vm;
    int[] pfns;
    long requestId = request.getRequestId();
    try {
      vm = authenticate(request.getVm());
      int count = request.getPfnsCount();
      if (count > machine.config().balloonBatchPages()) {
        // Before copying anything; the session's own (possibly lower) limit is checked by the machine.
        throw StatusMapping.invalid("a balloon batch holds at most " + machine.config().balloonBatchPages()
            + " pages, got " + count);
      }
      if (requestId < 0) {
        throw StatusMapping.invalid("a balloon request id is at most 2^63 - 1");
      }
      pfns = new int[count];
      for (int i = 0; i < count; i++) {
        pfns[i] = request.getPfns(i);
      }
    } catch (MachineException e) {
      responses.onError(StatusMapping.toStatus(e));
      return;
    } catch (StatusRuntimeException e) {
      responses.onError(e);
      return;
    }
    long session = request.getSessionId();
    if (requestId != 0 && retries.offer(vm.id(), requestId, responses,
        () -> applyOrRepeat(vm, session, requestId, lock, pfns, true)) == BalloonRetries.Offer.HANDLED) {
      return;
    }
    StreamObserver<BalloonPagesReply> untilQueued = new ForwardingObserver(responses) {
      @Override
      public void onError(Throwable t) {
        // Only when the call could not be queued: its retry must not wait for it.
        retries.dropped(vm.id(), requestId);
        super.onError(t);
      }
    };
    clock.forVm(vm.id(), untilQueued, () -> {
      BalloonPagesReply reply = null;
      StatusRuntimeException refused = null;
      try {
        reply = applyOrRepeat(vm, session, requestId, lock, pfns, false);
      } catch (StatusRuntimeException e) {
        refused = e;
      }
      if (requestId != 0) {
        retries.applied(vm.id(), requestId, reply, refused);
      }
      long delay = lock && refused == null ? faults.lockReplyDelayNanos(vm.name()) : 0;
      if (delay > 0) {
        log.warn("{}: injected fault: the answer to balloon lock request {} is held back for {} ms", vm, requestId,
            TimeUnit.NANOSECONDS.toMillis(delay));
        BalloonPagesReply held = reply;
        // Wall time: an injected network fault, outside the model; the call was applied already.
        delayed().schedule(() -> BalloonRetries.deliver(responses, held, null), delay, TimeUnit.NANOSECONDS);
      } else {
        BalloonRetries.deliver(responses, reply, refused);
      }
    });
  }

  /**
   * Applies a Lock or Unlock (or answers it as a retry of the last one applied), as a reply.
   *
   * @param repeatOnly only answer a retry: {@code null} if the id was not applied yet or the call is refused
   */
  private BalloonPagesReply applyOrRepeat(Vm vm, long session, long requestId, boolean lock, int[] pfns,
                                          boolean repeatOnly) {
    BalloonPageStatus[] statuses = new BalloonPageStatus[pfns.length];
    BalloonReply reply;
    try {
      reply = repeatOnly
          ? machine.balloonRepeat(vm, session, requestId, lock, pfns, pfns.length, statuses)
          : machine.balloonMove(vm, session, requestId, lock, pfns, pfns.length, statuses);
    } catch (MachineException e) {
      if (repeatOnly) {
        // Refused: said in the call's turn, so it lands where the lab's order puts it.
        return null;
      }
      throw StatusMapping.toStatus(e);
    }
    if (reply == null) {
      return null;
    }
    BalloonPagesReply.Builder b = BalloonPagesReply.newBuilder().setTarget(ProtoMapping.toProto(reply));
    for (BalloonPageStatus s : statuses) {
      // The wire's numbers start at 1 (0 is unspecified), in the same order as the domain's.
      b.addStatusesValue(s.ordinal() + 1);
    }
    return b.build();
  }

  /** The thread that sends held-back answers, made on first use (only with an injected fault). */
  private synchronized ScheduledExecutorService delayed() {
    if (delayedReplies == null) {
      delayedReplies = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "held-balloon-replies");
        t.setDaemon(true);
        return t;
      });
    }
    return delayedReplies;
  }

  /** Passes every call on; subclasses change what they need. */
  private static class ForwardingObserver implements StreamObserver<BalloonPagesReply> {
    private final StreamObserver<BalloonPagesReply> to;

    ForwardingObserver(StreamObserver<BalloonPagesReply> to) {
      this.to = to;
    }

    @Override
    public void onNext(BalloonPagesReply value) {
      to.onNext(value);
    }

    @Override
    public void onError(Throwable t) {
      to.onError(t);
    }

    @Override
    public void onCompleted() {
      to.onCompleted();
    }
  }

  /** Keeps the stats as the VM's latest (views, metrics and the policy read them) and answers the target. */
  @Override
  public void reportStats(BalloonStatsRequest request, StreamObserver<BalloonTargetReply> responses) {
    inTurn(request.getVm(), responses, () -> StatusMapping.answer(responses, () -> {
      var s = request.getStats();
      long[] values = {s.getSwapIn(), s.getSwapOut(), s.getMajorFaults(), s.getMinorFaults(), s.getFreePages(),
          s.getTotalPages(), s.getAvailablePages()};
      for (long v : values) {
        if (v < 0) {
          throw StatusMapping.invalid("balloon stats cannot be negative, got " + v);
        }
      }
      MemoryStats stats = new MemoryStats(s.getSwapIn(), s.getSwapOut(), s.getMajorFaults(), s.getMinorFaults(),
          s.getFreePages(), s.getTotalPages(), s.getAvailablePages());
      return ProtoMapping.toProto(machine.balloonStats(authenticate(request.getVm()), request.getSessionId(),
          stats));
    }));
  }

  /** Streams the target whenever it changes, starting with the current one. */
  @Override
  public void doorbell(BalloonDoorbellRequest request, StreamObserver<BalloonTargetReply> responses) {
    try {
      Vm vm = authenticate(request.getVm());
      machine.balloonDoorbell(vm, request.getSessionId());
      doorbells.listen(vm.id(), request.getSessionId(), (ServerCallStreamObserver<BalloonTargetReply>) responses);
    } catch (MachineException e) {
      responses.onError(StatusMapping.toStatus(e));
    }
  }

  private Vm authenticate(BalloonCredentials credentials) {
    return machine.authenticate(credentials.getVmId(), credentials.getCredential());
  }
}
