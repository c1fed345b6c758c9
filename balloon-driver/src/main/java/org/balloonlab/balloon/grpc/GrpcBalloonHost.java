package org.balloonlab.balloon.grpc;

import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.balloonlab.balloon.driver.BalloonHost;
import org.balloonlab.balloon.driver.BalloonHostException;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.proto.BalloonCapability;
import org.balloonlab.proto.BalloonCredentials;
import org.balloonlab.proto.BalloonDoorbellRequest;
import org.balloonlab.proto.BalloonGetTargetRequest;
import org.balloonlab.proto.BalloonPagesReply;
import org.balloonlab.proto.BalloonPagesRequest;
import org.balloonlab.proto.BalloonServiceGrpc;
import org.balloonlab.proto.BalloonStartRequest;
import org.balloonlab.proto.BalloonStatsRequest;
import org.balloonlab.proto.BalloonTargetReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's {@link BalloonHost} over the private gRPC channel to the hypervisor's {@code BalloonService}.
 *
 * <p>Every call carries the VM's credentials and, except the doorbell stream, a deadline, so a hypervisor that
 * does not answer becomes an {@code UNAVAILABLE} {@link BalloonHostException} the driver retries (a lock or
 * unlock at once, with the same request id; anything else next round) instead of a hung worker. Statuses are
 * mapped in {@link StatusMapping}, messages in {@link ProtoMapping}. Thread-safe: the worker and the guest's
 * OOM path may call it at once. The caller owns the channel.
 */
public final class GrpcBalloonHost implements BalloonHost {
  private static final Logger log = LoggerFactory.getLogger(GrpcBalloonHost.class);

  /** How long a unary call may take by default. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(5);

  private final BalloonServiceGrpc.BalloonServiceBlockingStub blocking;
  private final BalloonServiceGrpc.BalloonServiceStub async;
  private final BalloonCredentials credentials;
  private final long deadlineNanos;

  public GrpcBalloonHost(Channel channel, int vmId, String credential) {
    this(channel, vmId, credential, DEFAULT_DEADLINE);
  }

  /** @param deadline how long each unary call may take */
  public GrpcBalloonHost(Channel channel, int vmId, String credential, Duration deadline) {
    Objects.requireNonNull(channel, "channel");
    if (deadline.isZero() || deadline.isNegative()) {
      throw new IllegalArgumentException("the deadline must be positive, got " + deadline);
    }
    this.blocking = BalloonServiceGrpc.newBlockingStub(channel);
    this.async = BalloonServiceGrpc.newStub(channel);
    this.credentials = BalloonCredentials.newBuilder()
        .setVmId(vmId)
        .setCredential(Objects.requireNonNull(credential, "credential"))
        .build();
    this.deadlineNanos = deadline.toNanos();
  }

  /** Opens a session, asking for batched lock, the doorbell and stats. */
  @Override
  public Session start() {
    BalloonStartRequest request = BalloonStartRequest.newBuilder()
        .setVm(credentials)
        .addCapabilities(BalloonCapability.BALLOON_CAPABILITY_BATCHED_LOCK)
        .addCapabilities(BalloonCapability.BALLOON_CAPABILITY_DOORBELL)
        .addCapabilities(BalloonCapability.BALLOON_CAPABILITY_STATS)
        .build();
    return call("Start", () -> ProtoMapping.toSession(stub().start(request)));
  }

  /** The current target; reports the balloon's size for the hypervisor's bookkeeping. */
  @Override
  public Target getTarget(long sessionId, long balloonPages) {
    BalloonGetTargetRequest request = BalloonGetTargetRequest.newBuilder()
        .setVm(credentials)
        .setSessionId(sessionId)
        .setBalloonPages(balloonPages)
        .build();
    return call("GetTarget", () -> ProtoMapping.toTarget(stub().getTarget(request)));
  }

  /** Locks a batch under {@code requestId}; the driver retries it with the same id and pages. */
  @Override
  public Target lock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses) {
    BalloonPagesRequest request = pagesRequest(sessionId, requestId, pfns, count);
    return call("Lock", () -> pages("Lock", stub().lock(request), count, statuses));
  }

  /** Unlocks a batch under {@code requestId}, as {@link #lock}. */
  @Override
  public Target unlock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses) {
    BalloonPagesRequest request = pagesRequest(sessionId, requestId, pfns, count);
    return call("Unlock", () -> pages("Unlock", stub().unlock(request), count, statuses));
  }

  @Override
  public Target reportStats(long sessionId, MemoryStats stats) {
    BalloonStatsRequest request = BalloonStatsRequest.newBuilder()
        .setVm(credentials)
        .setSessionId(sessionId)
        .setStats(ProtoMapping.toProto(stats))
        .build();
    return call("ReportStats", () -> ProtoMapping.toTarget(stub().reportStats(request)));
  }

  /**
   * Opens the doorbell stream; {@code ring} runs on gRPC's thread for every message (the first arrives at
   * once). The message's content is not passed on: the driver reads the state with its next
   * {@code GetTarget}. If the stream fails, {@code ring} runs once more so the driver polls and notices; the
   * stream is not reopened (the driver listens again with its next session). Closing the handle cancels it.
   */
  @Override
  public void awaitRetry(long nanos) {
    // Wall time: a pause for the network before an unanswered call is sent again, not part of the model.
    long end = System.nanoTime() + nanos;
    for (long left = nanos; left > 0 && !Thread.currentThread().isInterrupted(); left = end - System.nanoTime()) {
      LockSupport.parkNanos(left);
    }
  }

  @Override
  public AutoCloseable listenDoorbell(long sessionId, Runnable ring) {
    Objects.requireNonNull(ring, "ring");
    BalloonDoorbellRequest request = BalloonDoorbellRequest.newBuilder()
        .setVm(credentials)
        .setSessionId(sessionId)
        .build();
    AtomicBoolean closed = new AtomicBoolean();
    DoorbellObserver observer = new DoorbellObserver(ring, closed);
    try {
      async.doorbell(request, observer);
    } catch (StatusRuntimeException e) {
      throw StatusMapping.toHostException("Doorbell", e);
    }
    return () -> {
      if (closed.compareAndSet(false, true)) {
        observer.cancel();
      }
    };
  }

  /** Runs one unary call, turning a failed one into the {@link BalloonHostException} the driver handles. */
  private static <T> T call(String method, Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw StatusMapping.toHostException(method, e);
    }
  }

  private BalloonServiceGrpc.BalloonServiceBlockingStub stub() {
    // A deadline is fixed when the stub is made, so each call gets a fresh one.
    return blocking.withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS);
  }

  private BalloonPagesRequest pagesRequest(long sessionId, long requestId, int[] pfns, int count) {
    if (count < 0 || count > pfns.length) {
      throw new IllegalArgumentException("count " + count + " outside the " + pfns.length + " PFNs given");
    }
    if (requestId < 0) {
      throw new IllegalArgumentException("a request id is from 0 to 2^63 - 1, got " + requestId);
    }
    BalloonPagesRequest.Builder b = BalloonPagesRequest.newBuilder()
        .setVm(credentials)
        .setSessionId(sessionId)
        .setRequestId(requestId);
    for (int i = 0; i < count; i++) {
      b.addPfns(pfns[i]);
    }
    return b.build();
  }

  private static Target pages(String call, BalloonPagesReply reply, int count, PageStatus[] statuses) {
    if (reply.getStatusesCount() != count) {
      throw StatusMapping.malformed(call, reply.getStatusesCount() + " statuses for " + count + " pages");
    }
    for (int i = 0; i < count; i++) {
      statuses[i] = ProtoMapping.toPageStatus(reply.getStatuses(i));
    }
    return reply.hasTarget() ? ProtoMapping.toTarget(reply.getTarget()) : new Target(0, false, null);
  }

  /** Rings on every doorbell message; keeps the call so closing the handle can cancel it. */
  private static final class DoorbellObserver
      implements ClientResponseObserver<BalloonDoorbellRequest, BalloonTargetReply> {
    private final Runnable ring;
    private final AtomicBoolean closed;
    private volatile ClientCallStreamObserver<BalloonDoorbellRequest> call;

    DoorbellObserver(Runnable ring, AtomicBoolean closed) {
      this.ring = ring;
      this.closed = closed;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<BalloonDoorbellRequest> requestStream) {
      call = requestStream;
    }

    @Override
    public void onNext(BalloonTargetReply value) {
      if (!closed.get()) {
        ring.run();
      }
    }

    @Override
    public void onError(Throwable t) {
      if (!closed.get()) {
        log.debug("the balloon doorbell failed", t);
        ring.run();
      }
    }

    @Override
    public void onCompleted() {
      if (!closed.get()) {
        ring.run();
      }
    }

    void cancel() {
      ClientCallStreamObserver<BalloonDoorbellRequest> c = call;
      if (c != null) {
        c.cancel("the balloon driver stopped listening", null);
      }
    }
  }
}
