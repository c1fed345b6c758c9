package org.balloonlab.balloon.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.AtomicReference;
import org.balloonlab.balloon.driver.BalloonHost.PageStatus;
import org.balloonlab.balloon.driver.BalloonHost.Session;
import org.balloonlab.balloon.driver.BalloonHost.Target;
import org.balloonlab.balloon.driver.BalloonHostException;
import org.balloonlab.balloon.driver.FakeHost;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.proto.BalloonCapability;
import org.balloonlab.proto.BalloonCredentials;
import org.balloonlab.proto.BalloonDoorbellRequest;
import org.balloonlab.proto.BalloonGetTargetRequest;
import org.balloonlab.proto.BalloonPageStatus;
import org.balloonlab.proto.BalloonPagesReply;
import org.balloonlab.proto.BalloonPagesRequest;
import org.balloonlab.proto.BalloonServiceGrpc;
import org.balloonlab.proto.BalloonStartRequest;
import org.balloonlab.proto.BalloonStartResponse;
import org.balloonlab.proto.BalloonStats;
import org.balloonlab.proto.BalloonStatsRequest;
import org.balloonlab.proto.BalloonTargetReply;
import org.balloonlab.proto.DriverModeRequest;

/** Serves a {@link FakeHost} as the balloon service, so the driver's scenarios can run over gRPC too. */
final class FakeHostService extends BalloonServiceGrpc.BalloonServiceImplBase {
  private final FakeHost host;
  private final int vmId;
  private final String credential;

  FakeHostService(FakeHost host, int vmId, String credential) {
    this.host = host;
    this.vmId = vmId;
    this.credential = credential;
  }

  @Override
  public void start(BalloonStartRequest request, StreamObserver<BalloonStartResponse> observer) {
    if (denied(request.getVm(), observer)) {
      return;
    }
    try {
      Session s = host.start();
      BalloonStartResponse.Builder b = BalloonStartResponse.newBuilder()
          .setSessionId(s.id())
          .setMaxBatchPages(s.maxBatchPages())
          .setTarget(toProto(s.target()));
      if (s.batched() && request.getCapabilitiesList().contains(BalloonCapability.BALLOON_CAPABILITY_BATCHED_LOCK)) {
        b.addGranted(BalloonCapability.BALLOON_CAPABILITY_BATCHED_LOCK);
      }
      if (s.doorbell() && request.getCapabilitiesList().contains(BalloonCapability.BALLOON_CAPABILITY_DOORBELL)) {
        b.addGranted(BalloonCapability.BALLOON_CAPABILITY_DOORBELL);
      }
      if (s.stats() && request.getCapabilitiesList().contains(BalloonCapability.BALLOON_CAPABILITY_STATS)) {
        b.addGranted(BalloonCapability.BALLOON_CAPABILITY_STATS);
      }
      observer.onNext(b.build());
      observer.onCompleted();
    } catch (BalloonHostException e) {
      observer.onError(toStatus(e));
    }
  }

  @Override
  public void getTarget(BalloonGetTargetRequest request, StreamObserver<BalloonTargetReply> observer) {
    if (denied(request.getVm(), observer)) {
      return;
    }
    try {
      observer.onNext(toProto(host.getTarget(request.getSessionId(), request.getBalloonPages())));
      observer.onCompleted();
    } catch (BalloonHostException e) {
      observer.onError(toStatus(e));
    }
  }

  @Override
  public void lock(BalloonPagesRequest request, StreamObserver<BalloonPagesReply> observer) {
    pages(request, observer, true);
  }

  @Override
  public void unlock(BalloonPagesRequest request, StreamObserver<BalloonPagesReply> observer) {
    pages(request, observer, false);
  }

  private void pages(BalloonPagesRequest request, StreamObserver<BalloonPagesReply> observer, boolean lock) {
    if (denied(request.getVm(), observer)) {
      return;
    }
    int n = request.getPfnsCount();
    int[] pfns = new int[n];
    for (int i = 0; i < n; i++) {
      pfns[i] = request.getPfns(i);
    }
    PageStatus[] statuses = new PageStatus[n];
    try {
      Target t = lock ? host.lock(request.getSessionId(), request.getRequestId(), pfns, n, statuses)
          : host.unlock(request.getSessionId(), request.getRequestId(), pfns, n, statuses);
      BalloonPagesReply.Builder b = BalloonPagesReply.newBuilder().setTarget(toProto(t));
      for (PageStatus s : statuses) {
        b.addStatuses(BalloonPageStatus.forNumber(s.ordinal() + 1));
      }
      observer.onNext(b.build());
      observer.onCompleted();
    } catch (BalloonHostException e) {
      observer.onError(toStatus(e));
    }
  }

  @Override
  public void reportStats(BalloonStatsRequest request, StreamObserver<BalloonTargetReply> observer) {
    if (denied(request.getVm(), observer)) {
      return;
    }
    BalloonStats s = request.getStats();
    try {
      observer.onNext(toProto(host.reportStats(request.getSessionId(), new MemoryStats(s.getSwapIn(),
          s.getSwapOut(), s.getMajorFaults(), s.getMinorFaults(), s.getFreePages(), s.getTotalPages(),
          s.getAvailablePages()))));
      observer.onCompleted();
    } catch (BalloonHostException e) {
      observer.onError(toStatus(e));
    }
  }

  @Override
  public void doorbell(BalloonDoorbellRequest request, StreamObserver<BalloonTargetReply> observer) {
    if (denied(request.getVm(), observer)) {
      return;
    }
    ServerCallStreamObserver<BalloonTargetReply> call = (ServerCallStreamObserver<BalloonTargetReply>) observer;
    AtomicReference<AutoCloseable> handle = new AtomicReference<>();
    call.setOnCancelHandler(() -> close(handle.get()));
    try {
      handle.set(host.listenDoorbell(request.getSessionId(), () -> {
        // Rings come from whichever thread changed the fake; a stream observer takes one at a time.
        synchronized (call) {
          if (!call.isCancelled()) {
            call.onNext(toProto(host.current()));
          }
        }
      }));
    } catch (BalloonHostException e) {
      observer.onError(toStatus(e));
    }
  }

  private static void close(AutoCloseable handle) {
    if (handle != null) {
      try {
        handle.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private boolean denied(BalloonCredentials vm, StreamObserver<?> observer) {
    if (vm.getVmId() != vmId || !vm.getCredential().equals(credential)) {
      observer.onError(Status.PERMISSION_DENIED.withDescription("bad credential").asRuntimeException());
      return true;
    }
    return false;
  }

  private static RuntimeException toStatus(BalloonHostException e) {
    Status s = switch (e.kind()) {
      case STALE_SESSION -> Status.FAILED_PRECONDITION;
      case DENIED -> Status.PERMISSION_DENIED;
      case INVALID -> Status.INVALID_ARGUMENT;
      case UNAVAILABLE -> Status.UNAVAILABLE;
    };
    return s.withDescription(e.getMessage()).asRuntimeException();
  }

  private static BalloonTargetReply toProto(Target t) {
    BalloonTargetReply.Builder b = BalloonTargetReply.newBuilder()
        .setTargetPages(t.targetPages())
        .setReset(t.reset());
    DriverMode m = t.requestedMode();
    if (m != null) {
      b.setRequestedMode(DriverModeRequest.newBuilder()
          .setMode(org.balloonlab.proto.DriverMode.valueOf("DRIVER_MODE_" + m.kind().name()))
          .setLateMs(m.lateMillis())
          .setPagesPerSecond(m.pagesPerSecond())
          .setStuckProbability(m.stuckProbability()));
    }
    return b.build();
  }
}
