package org.balloonlab.hypervisor.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
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

/**
 * The balloon driver's private channel. Every call is authenticated with the VM's credential, so a driver acts
 * only on its own VM; every call delegates to {@link Machine}. The doorbell streams are this service's own: the
 * machine rings them whenever a VM's balloon changes.
 */
final class BalloonGrpcService extends BalloonServiceGrpc.BalloonServiceImplBase implements AutoCloseable {
  private final Machine machine;
  private final BalloonDoorbells doorbells;
  private final LabClockEdge clock;

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

  /** Ends every doorbell stream and stops ringing. */
  @Override
  public void close() {
    doorbells.close();
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

  private void pages(BalloonPagesRequest request, StreamObserver<BalloonPagesReply> responses, boolean lock) {
    inTurn(request.getVm(), responses, () -> StatusMapping.answer(responses, () -> {
      Vm vm = authenticate(request.getVm());
      int count = request.getPfnsCount();
      if (count > machine.config().balloonBatchPages()) {
        // Before copying anything; the session's own (possibly lower) limit is checked by the machine.
        throw StatusMapping.invalid("a balloon batch holds at most " + machine.config().balloonBatchPages()
            + " pages, got " + count);
      }
      int[] pfns = new int[count];
      for (int i = 0; i < count; i++) {
        pfns[i] = request.getPfns(i);
      }
      BalloonPageStatus[] statuses = new BalloonPageStatus[count];
      BalloonReply reply = lock
          ? machine.balloonLock(vm, request.getSessionId(), pfns, count, statuses)
          : machine.balloonUnlock(vm, request.getSessionId(), pfns, count, statuses);
      BalloonPagesReply.Builder b = BalloonPagesReply.newBuilder().setTarget(ProtoMapping.toProto(reply));
      for (BalloonPageStatus s : statuses) {
        // The wire's numbers start at 1 (0 is unspecified), in the same order as the domain's.
        b.addStatusesValue(s.ordinal() + 1);
      }
      return b.build();
    }));
  }

  /** Answers the target; the stats themselves are for policies that use them. */
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
      return ProtoMapping.toProto(machine.balloonStats(authenticate(request.getVm()), request.getSessionId()));
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
