package org.balloonlab.balloon.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.balloonlab.balloon.driver.BalloonHost.PageStatus;
import org.balloonlab.balloon.driver.BalloonHost.Session;
import org.balloonlab.balloon.driver.BalloonHost.Target;
import org.balloonlab.balloon.driver.BalloonHostException;
import org.balloonlab.balloon.driver.BalloonHostException.Kind;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.proto.BalloonCapability;
import org.balloonlab.proto.BalloonDoorbellRequest;
import org.balloonlab.proto.BalloonGetTargetRequest;
import org.balloonlab.proto.BalloonPageStatus;
import org.balloonlab.proto.BalloonPagesReply;
import org.balloonlab.proto.BalloonPagesRequest;
import org.balloonlab.proto.BalloonServiceGrpc;
import org.balloonlab.proto.BalloonStartRequest;
import org.balloonlab.proto.BalloonStartResponse;
import org.balloonlab.proto.BalloonStatsRequest;
import org.balloonlab.proto.BalloonTargetReply;
import org.balloonlab.proto.DriverModeRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link GrpcBalloonHost} against a scripted balloon service over an in-process transport. */
class GrpcBalloonHostTest {
  static final int VM = 7;
  static final String CREDENTIAL = "secret";

  /** Answers what a test scripts, records what the client sent. */
  static final class ScriptedService extends BalloonServiceGrpc.BalloonServiceImplBase {
    volatile Status failWith;
    volatile BalloonStartResponse startResponse = BalloonStartResponse.getDefaultInstance();
    volatile BalloonTargetReply targetReply = BalloonTargetReply.getDefaultInstance();
    volatile BalloonPagesReply pagesReply = BalloonPagesReply.getDefaultInstance();
    volatile boolean neverAnswer;
    final BlockingQueue<Object> requests = new LinkedBlockingQueue<>();
    final BlockingQueue<ServerCallStreamObserver<BalloonTargetReply>> doorbells = new LinkedBlockingQueue<>();
    final AtomicInteger doorbellsCancelled = new AtomicInteger();

    private <T> boolean answer(Object request, StreamObserver<T> observer, T reply) {
      requests.add(request);
      if (neverAnswer) {
        return false;
      }
      if (failWith != null) {
        observer.onError(failWith.asRuntimeException());
      } else {
        observer.onNext(reply);
        observer.onCompleted();
      }
      return true;
    }

    @Override
    public void start(BalloonStartRequest request, StreamObserver<BalloonStartResponse> observer) {
      answer(request, observer, startResponse);
    }

    @Override
    public void getTarget(BalloonGetTargetRequest request, StreamObserver<BalloonTargetReply> observer) {
      answer(request, observer, targetReply);
    }

    @Override
    public void lock(BalloonPagesRequest request, StreamObserver<BalloonPagesReply> observer) {
      answer(request, observer, pagesReply);
    }

    @Override
    public void unlock(BalloonPagesRequest request, StreamObserver<BalloonPagesReply> observer) {
      answer(request, observer, pagesReply);
    }

    @Override
    public void reportStats(BalloonStatsRequest request, StreamObserver<BalloonTargetReply> observer) {
      answer(request, observer, targetReply);
    }

    @Override
    public void doorbell(BalloonDoorbellRequest request, StreamObserver<BalloonTargetReply> observer) {
      requests.add(request);
      ServerCallStreamObserver<BalloonTargetReply> call = (ServerCallStreamObserver<BalloonTargetReply>) observer;
      call.setOnCancelHandler(doorbellsCancelled::incrementAndGet);
      call.onNext(targetReply);
      doorbells.add(call);
    }
  }

  ScriptedService service;
  Server server;
  ManagedChannel channel;
  GrpcBalloonHost host;

  @BeforeEach
  void setUp() throws IOException {
    String name = InProcessServerBuilder.generateName();
    service = new ScriptedService();
    server = InProcessServerBuilder.forName(name).directExecutor().addService(service).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    host = new GrpcBalloonHost(channel, VM, CREDENTIAL, Duration.ofSeconds(5));
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow();
    assertTrue(channel.awaitTermination(5, TimeUnit.SECONDS));
    assertTrue(server.awaitTermination(5, TimeUnit.SECONDS));
  }

  @SuppressWarnings("unchecked")
  <T> T sent(Class<T> type) throws InterruptedException {
    Object r = service.requests.poll(5, TimeUnit.SECONDS);
    assertTrue(type.isInstance(r), "expected a " + type.getSimpleName() + ", got " + r);
    return (T) r;
  }

  static BalloonTargetReply reply(long target, boolean reset) {
    return BalloonTargetReply.newBuilder().setTargetPages(target).setReset(reset).build();
  }

  @Test
  void startAsksForEveryCapabilityWithTheCredentialsAndMapsTheGrant() throws Exception {
    service.startResponse = BalloonStartResponse.newBuilder()
        .setSessionId(42)
        .addGranted(BalloonCapability.BALLOON_CAPABILITY_BATCHED_LOCK)
        .addGranted(BalloonCapability.BALLOON_CAPABILITY_DOORBELL)
        .setMaxBatchPages(256)
        .setTarget(BalloonTargetReply.newBuilder().setTargetPages(1000).setRequestedMode(
            DriverModeRequest.newBuilder().setMode(org.balloonlab.proto.DriverMode.DRIVER_MODE_SLOW).setPagesPerSecond(50)))
        .build();

    Session s = host.start();

    assertEquals(new Session(42, 256, true, true, false,
        new Target(1000, false, new DriverMode(DriverMode.Kind.SLOW, 0, 50, 0))), s);
    BalloonStartRequest r = sent(BalloonStartRequest.class);
    assertEquals(VM, r.getVm().getVmId());
    assertEquals(CREDENTIAL, r.getVm().getCredential());
    assertEquals(List.of(BalloonCapability.BALLOON_CAPABILITY_BATCHED_LOCK,
        BalloonCapability.BALLOON_CAPABILITY_DOORBELL, BalloonCapability.BALLOON_CAPABILITY_STATS),
        r.getCapabilitiesList());
  }

  @Test
  void aSessionWithoutBatchingLocksOnePageAtATime() {
    service.startResponse = BalloonStartResponse.newBuilder().setSessionId(1).setMaxBatchPages(512)
        .addGranted(BalloonCapability.BALLOON_CAPABILITY_STATS).build();

    Session s = host.start();

    assertEquals(1, s.maxBatchPages());
    assertFalse(s.batched());
    assertTrue(s.stats());
    assertEquals(new Target(0, false, null), s.target());
  }

  @Test
  void getTargetReportsTheSizeAndMapsTheReply() throws Exception {
    service.targetReply = reply(77, true);

    Target t = host.getTarget(9, 123);

    assertEquals(new Target(77, true, null), t);
    BalloonGetTargetRequest r = sent(BalloonGetTargetRequest.class);
    assertEquals(9, r.getSessionId());
    assertEquals(123, r.getBalloonPages());
    assertEquals(VM, r.getVm().getVmId());
    assertEquals(CREDENTIAL, r.getVm().getCredential());
  }

  @Test
  void lockSendsThePfnsInOrderAndMapsEveryStatus() throws Exception {
    BalloonPageStatus[] wire = {BalloonPageStatus.BALLOON_PAGE_OK, BalloonPageStatus.BALLOON_PAGE_INVALID,
        BalloonPageStatus.BALLOON_PAGE_ALREADY_LOCKED, BalloonPageStatus.BALLOON_PAGE_NOT_LOCKED,
        BalloonPageStatus.BALLOON_PAGE_DUPLICATE, BalloonPageStatus.BALLOON_PAGE_REFUSED,
        BalloonPageStatus.BALLOON_PAGE_RESET, BalloonPageStatus.BALLOON_PAGE_STATUS_UNSPECIFIED};
    BalloonPagesReply.Builder reply = BalloonPagesReply.newBuilder().setTarget(reply(500, false));
    for (BalloonPageStatus s : wire) {
      reply.addStatuses(s);
    }
    service.pagesReply = reply.build();
    int[] pfns = {10, 11, 12, 13, 14, 15, 16, 17, 99};
    PageStatus[] statuses = new PageStatus[pfns.length];

    Target t = host.lock(3, 42, pfns, 8, statuses);

    assertEquals(new Target(500, false, null), t);
    assertArrayEquals(new PageStatus[] {PageStatus.OK, PageStatus.INVALID, PageStatus.ALREADY_LOCKED,
        PageStatus.NOT_LOCKED, PageStatus.DUPLICATE, PageStatus.REFUSED, PageStatus.RESET, PageStatus.INVALID,
        null}, statuses);
    BalloonPagesRequest r = sent(BalloonPagesRequest.class);
    assertEquals(3, r.getSessionId());
    assertEquals(42, r.getRequestId(), "the request id travels, so the hypervisor can answer a retry once");
    assertEquals(List.of(10, 11, 12, 13, 14, 15, 16, 17), r.getPfnsList());
    assertEquals(CREDENTIAL, r.getVm().getCredential());
  }

  @Test
  void unlockMapsItsStatuses() throws Exception {
    service.pagesReply = BalloonPagesReply.newBuilder()
        .addStatuses(BalloonPageStatus.BALLOON_PAGE_OK)
        .addStatuses(BalloonPageStatus.BALLOON_PAGE_NOT_LOCKED)
        .setTarget(reply(0, false))
        .build();
    PageStatus[] statuses = new PageStatus[2];

    host.unlock(3, 0, new int[] {5, 6}, 2, statuses);

    assertArrayEquals(new PageStatus[] {PageStatus.OK, PageStatus.NOT_LOCKED}, statuses);
    assertEquals(List.of(5, 6), sent(BalloonPagesRequest.class).getPfnsList());
  }

  @Test
  void aReplyWithTheWrongNumberOfStatusesIsInvalid() {
    service.pagesReply = BalloonPagesReply.newBuilder().addStatuses(BalloonPageStatus.BALLOON_PAGE_OK).build();

    BalloonHostException e = assertThrows(BalloonHostException.class,
        () -> host.lock(3, 0, new int[] {1, 2}, 2, new PageStatus[2]));

    assertEquals(Kind.INVALID, e.kind());
  }

  @Test
  void reportStatsSendsEveryField() throws Exception {
    service.targetReply = reply(5, false);

    Target t = host.reportStats(4, new MemoryStats(1, 2, 3, 4, 5, 6, 7));

    assertEquals(5, t.targetPages());
    BalloonStatsRequest r = sent(BalloonStatsRequest.class);
    assertEquals(4, r.getSessionId());
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), List.of(r.getStats().getSwapIn(), r.getStats().getSwapOut(),
        r.getStats().getMajorFaults(), r.getStats().getMinorFaults(), r.getStats().getFreePages(),
        r.getStats().getTotalPages(), r.getStats().getAvailablePages()));
    assertEquals(VM, r.getVm().getVmId());
  }

  @ParameterizedTest
  @EnumSource(value = org.balloonlab.proto.DriverMode.class, names = "UNRECOGNIZED", mode = EnumSource.Mode.EXCLUDE)
  void requestedModesMapToTheDriversModes(org.balloonlab.proto.DriverMode wire) {
    service.targetReply = BalloonTargetReply.newBuilder().setRequestedMode(DriverModeRequest.newBuilder()
        .setMode(wire).setLateMs(1500).setPagesPerSecond(64).setStuckProbability(0.25)).build();

    DriverMode m = host.getTarget(1, 0).requestedMode();

    if (wire == org.balloonlab.proto.DriverMode.DRIVER_MODE_UNSPECIFIED) {
      assertNull(m);
    } else {
      assertEquals(new DriverMode(DriverMode.Kind.valueOf(wire.name().substring("DRIVER_MODE_".length())), 1500, 64, 0.25),
          m);
    }
  }

  @Test
  void noRequestedModeIsNull() {
    service.targetReply = reply(1, false);

    assertNull(host.getTarget(1, 0).requestedMode());
  }

  static Stream<Arguments> errorStatuses() {
    return Stream.of(
        Arguments.of(Status.FAILED_PRECONDITION, Kind.STALE_SESSION),
        Arguments.of(Status.NOT_FOUND, Kind.DENIED),
        Arguments.of(Status.PERMISSION_DENIED, Kind.DENIED),
        Arguments.of(Status.INVALID_ARGUMENT, Kind.INVALID),
        Arguments.of(Status.UNAVAILABLE, Kind.UNAVAILABLE),
        Arguments.of(Status.INTERNAL, Kind.UNAVAILABLE),
        Arguments.of(Status.RESOURCE_EXHAUSTED, Kind.UNAVAILABLE));
  }

  @ParameterizedTest
  @MethodSource("errorStatuses")
  void errorStatusesMapToKindsOnEveryCall(Status status, Kind kind) {
    service.failWith = status.withDescription("scripted");
    List<Runnable> calls = List.of(
        host::start,
        () -> host.getTarget(1, 0),
        () -> host.lock(1, 0, new int[] {1}, 1, new PageStatus[1]),
        () -> host.unlock(1, 0, new int[] {1}, 1, new PageStatus[1]),
        () -> host.reportStats(1, new MemoryStats(0, 0, 0, 0, 0, 0, 0)));
    for (Runnable call : calls) {
      BalloonHostException e = assertThrows(BalloonHostException.class, call::run);
      assertEquals(kind, e.kind());
      assertTrue(e.getMessage().contains(status.getCode().name()), e.getMessage());
      assertTrue(e.getMessage().contains("scripted"), e.getMessage());
    }
  }

  @Test
  void aHypervisorThatDoesNotAnswerIsUnavailableAfterTheDeadline() {
    service.neverAnswer = true;
    GrpcBalloonHost impatient = new GrpcBalloonHost(channel, VM, CREDENTIAL, Duration.ofMillis(100));

    BalloonHostException e = assertThrows(BalloonHostException.class, () -> impatient.getTarget(1, 0));

    assertEquals(Kind.UNAVAILABLE, e.kind());
    assertTrue(e.getMessage().contains("DEADLINE_EXCEEDED"), e.getMessage());
  }

  @Test
  void theDoorbellRingsOnEveryMessageUntilClosed() throws Exception {
    AtomicInteger rings = new AtomicInteger();

    AutoCloseable handle = host.listenDoorbell(42, rings::incrementAndGet);

    BalloonDoorbellRequest r = sent(BalloonDoorbellRequest.class);
    assertEquals(42, r.getSessionId());
    assertEquals(CREDENTIAL, r.getVm().getCredential());
    assertEquals(VM, r.getVm().getVmId());
    await().atMost(Duration.ofSeconds(5)).until(() -> rings.get() == 1);
    ServerCallStreamObserver<BalloonTargetReply> call = service.doorbells.poll(5, TimeUnit.SECONDS);
    call.onNext(reply(10, false));
    call.onNext(reply(20, false));
    await().atMost(Duration.ofSeconds(5)).until(() -> rings.get() == 3);

    handle.close();

    await().atMost(Duration.ofSeconds(5)).until(() -> service.doorbellsCancelled.get() == 1);
    assertTrue(call.isCancelled());
    assertEquals(3, rings.get());
  }

  @Test
  void aFailingDoorbellRingsOnceSoTheDriverPolls() throws Exception {
    AtomicInteger rings = new AtomicInteger();
    AtomicReference<AutoCloseable> handle = new AtomicReference<>(host.listenDoorbell(1, rings::incrementAndGet));
    ServerCallStreamObserver<BalloonTargetReply> call = service.doorbells.poll(5, TimeUnit.SECONDS);

    call.onError(Status.UNAVAILABLE.asRuntimeException());

    await().atMost(Duration.ofSeconds(5)).until(() -> rings.get() == 2);
    handle.get().close();
    assertEquals(2, rings.get());
  }
}
