package org.balloonlab.hypervisor.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.balloonlab.hypervisor.machine.AccessOps;
import org.balloonlab.hypervisor.machine.BatchResult;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.AccessAttach;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
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
import org.balloonlab.proto.BalloonState;
import org.balloonlab.proto.BalloonStats;
import org.balloonlab.proto.BalloonStatsRequest;
import org.balloonlab.proto.BalloonTargetReply;
import org.balloonlab.proto.DriverMode;
import org.balloonlab.proto.DriverModeRequest;
import org.balloonlab.proto.GetMachineRequest;
import org.balloonlab.proto.GetVmRequest;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOffRequest;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmSpec;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The balloon driver's private channel and the operator's balloon controls, end to end over an in-process
 * transport: the happy paths a driver takes, the doorbell, and what a hostile client that is not the VM's driver
 * can (not) do.
 */
class BalloonServiceTest {
  static final int FRAMES = 64;
  static final int SLOTS = 256;
  static final int MAX_BATCH = 16;
  static final int BALLOON_BATCH = 8;
  static final long NEVER_STALLS = Long.MAX_VALUE;
  static final Duration NO_REAPING = Duration.ofHours(1);
  static final Duration PATIENCE = Duration.ofSeconds(10);
  static final BalloonCapability BATCHED = BalloonCapability.BALLOON_CAPABILITY_BATCHED_LOCK;
  static final BalloonCapability DOORBELL = BalloonCapability.BALLOON_CAPABILITY_DOORBELL;
  static final BalloonCapability STATS = BalloonCapability.BALLOON_CAPABILITY_STATS;
  static final BalloonPageStatus OK = BalloonPageStatus.BALLOON_PAGE_OK;
  static final BalloonPageStatus INVALID = BalloonPageStatus.BALLOON_PAGE_INVALID;
  static final BalloonPageStatus ALREADY_LOCKED = BalloonPageStatus.BALLOON_PAGE_ALREADY_LOCKED;
  static final BalloonPageStatus NOT_LOCKED = BalloonPageStatus.BALLOON_PAGE_NOT_LOCKED;
  static final BalloonPageStatus DUPLICATE = BalloonPageStatus.BALLOON_PAGE_DUPLICATE;
  static final BalloonPageStatus REFUSED = BalloonPageStatus.BALLOON_PAGE_REFUSED;
  static final BalloonPageStatus RESET = BalloonPageStatus.BALLOON_PAGE_RESET;

  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  private Machine machine;
  private HypervisorServer server;
  private String serverName;
  private MachineServiceGrpc.MachineServiceBlockingStub machines;
  private MachineServiceGrpc.MachineServiceStub machinesAsync;
  private ManagementServiceGrpc.ManagementServiceBlockingStub management;
  private BalloonServiceGrpc.BalloonServiceBlockingStub balloon;
  private BalloonServiceGrpc.BalloonServiceStub balloonAsync;

  @BeforeEach
  void startServer() throws IOException {
    startServer(NEVER_STALLS);
  }

  private void startServer(long stallNanos) throws IOException {
    machine = grpc.register(new Machine(new MachineConfig(FRAMES, SLOTS,
        dir.resolve("host-" + stallNanos + ".swap"), MAX_BATCH, CostModel.DEFAULT, 5, BALLOON_BATCH, stallNanos)));
    serverName = InProcessServerBuilder.generateName();
    server = grpc.register(new HypervisorServer(InProcessServerBuilder.forName(serverName), machine, NO_REAPING)
        .start());
    ManagedChannel channel = grpc.register(InProcessChannelBuilder.forName(serverName).build());
    machines = MachineServiceGrpc.newBlockingStub(channel);
    machinesAsync = MachineServiceGrpc.newStub(channel);
    management = ManagementServiceGrpc.newBlockingStub(channel);
    balloon = BalloonServiceGrpc.newBlockingStub(channel);
    balloonAsync = BalloonServiceGrpc.newStub(channel);
  }

  // ---------------------------------------------------------------- helpers: VMs, memory, the driver's calls

  private PowerOnResponse powerOn(String name, long pages) {
    return machines.powerOn(PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName(name).setOsKind("linux").setMemoryPages(pages))
        .build());
  }

  private void powerOff(PowerOnResponse vm) {
    machines.powerOff(PowerOffRequest.newBuilder().setVmId(vm.getVmId()).setCredential(vm.getCredential()).build());
  }

  static BalloonCredentials creds(PowerOnResponse vm) {
    return BalloonCredentials.newBuilder().setVmId(vm.getVmId()).setCredential(vm.getCredential()).build();
  }

  private BalloonStartResponse start(BalloonCredentials creds, BalloonCapability... caps) {
    return balloon.start(BalloonStartRequest.newBuilder().setVm(creds).addAllCapabilities(List.of(caps)).build());
  }

  private BalloonStartResponse start(PowerOnResponse vm) {
    return start(creds(vm), BATCHED, DOORBELL, STATS);
  }

  static BalloonPagesRequest pages(BalloonCredentials creds, long session, int... pfns) {
    return BalloonPagesRequest.newBuilder().setVm(creds).setSessionId(session)
        .addAllPfns(IntStream.of(pfns).boxed().toList()).build();
  }

  private BalloonPagesReply lock(PowerOnResponse vm, long session, int... pfns) {
    return balloon.lock(pages(creds(vm), session, pfns));
  }

  private BalloonPagesReply unlock(PowerOnResponse vm, long session, int... pfns) {
    return balloon.unlock(pages(creds(vm), session, pfns));
  }

  static BalloonGetTargetRequest getTarget(BalloonCredentials creds, long session, long balloonPages) {
    return BalloonGetTargetRequest.newBuilder().setVm(creds).setSessionId(session).setBalloonPages(balloonPages)
        .build();
  }

  static BalloonStatsRequest stats(BalloonCredentials creds, long session, BalloonStats stats) {
    return BalloonStatsRequest.newBuilder().setVm(creds).setSessionId(session).setStats(stats).build();
  }

  static BalloonDoorbellRequest doorbellRequest(BalloonCredentials creds, long session) {
    return BalloonDoorbellRequest.newBuilder().setVm(creds).setSessionId(session).build();
  }

  static List<BalloonPageStatus> statuses(BalloonPageStatus... s) {
    return List.of(s);
  }

  static List<BalloonPageStatus> all(BalloonPageStatus s, int n) {
    return java.util.Collections.nCopies(n, s);
  }

  static int[] range(int from, int to) {
    return IntStream.range(from, to).toArray();
  }

  private VmState setTarget(VmSelector vm, long pages) {
    return management.setBalloonTarget(SetBalloonTargetRequest.newBuilder().setVm(vm).setTargetPages(pages).build());
  }

  private VmState setTarget(PowerOnResponse vm, long pages) {
    VmState state = setTarget(byId(vm), pages);
    assertEquals(pages, state.getBalloon().getTargetPages());
    return state;
  }

  private VmState setMode(VmSelector vm, DriverModeRequest mode) {
    return management.setDriverMode(SetDriverModeRequest.newBuilder().setVm(vm).setMode(mode).build());
  }

  static VmSelector byId(PowerOnResponse vm) {
    return VmSelector.newBuilder().setVmId(vm.getVmId()).build();
  }

  static VmSelector byName(String name) {
    return VmSelector.newBuilder().setName(name).build();
  }

  static DriverModeRequest mode(DriverMode mode) {
    return DriverModeRequest.newBuilder().setMode(mode).build();
  }

  private VmState vm(PowerOnResponse vm) {
    return management.getVm(GetVmRequest.newBuilder().setVmId(vm.getVmId()).build());
  }

  private MachineState machineState() {
    return management.getMachine(GetMachineRequest.getDefaultInstance());
  }

  /** A VM's state without the one field that moves by itself (time since the driver's last call). */
  private VmState stable(PowerOnResponse vm) {
    VmState s = vm(vm);
    return s.toBuilder().setBalloon(s.getBalloon().toBuilder().clearLastContactMsAgo()).build();
  }

  /** Everything a refused call must leave as it was: the VM and the machine. */
  private List<Object> everything(PowerOnResponse... vms) {
    List<Object> all = new ArrayList<>();
    for (PowerOnResponse v : vms) {
      all.add(stable(v));
    }
    all.add(machineState());
    return all;
  }

  private static StatusRuntimeException assertStatus(Status.Code code, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    return e;
  }

  private static void assertMentions(StatusRuntimeException e, String... fragments) {
    String description = e.getStatus().getDescription();
    assertNotNull(description, e.getStatus().toString());
    for (String fragment : fragments) {
      assertTrue(description.contains(fragment), "'" + description + "' should mention '" + fragment + "'");
    }
  }

  /** Busy-waits (no sleep) until the monotonic clock has moved on by more than {@code nanos}. */
  private static void letClockPass(long nanos) {
    long start = System.nanoTime();
    while (System.nanoTime() - start <= nanos) {
      Thread.onSpinWait();
    }
  }

  static long token(int vmId, int pfn) {
    return 0xA000_0000_0000_0000L | ((long) vmId << 32) | pfn;
  }

  /** Collects a call's responses; the end of the call is queued after them as its status. */
  static final class Recorder<T> implements StreamObserver<T> {
    private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();

    @Override
    public void onNext(T value) {
      events.add(value);
    }

    @Override
    public void onError(Throwable t) {
      events.add(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      events.add(Status.OK);
    }

    @SuppressWarnings("unchecked")
    T next() throws InterruptedException {
      Object event = events.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      assertNotNull(event, "no response within " + PATIENCE);
      if (event instanceof Status status) {
        fail("expected a response, the call ended with " + status);
      }
      return (T) event;
    }
  }

  /**
   * A guest touching its memory. It goes through the machine's data path directly rather than the Access stream,
   * whose wire encoding HypervisorServerTest covers: this test is about the balloon, not the data plane.
   */
  final class Guest {
    private final PowerOnResponse on;
    private final Vm vm;

    Guest(PowerOnResponse on) {
      this.on = on;
      this.vm = machine.vmById(on.getVmId());
    }

    private long[] apply(byte op, int... pfns) {
      byte[] ops = new byte[pfns.length];
      java.util.Arrays.fill(ops, op);
      int writes = op == AccessOps.WRITE ? pfns.length : 0;
      long[] values = new long[writes];
      for (int i = 0; i < writes; i++) {
        values[i] = token(on.getVmId(), pfns[i]);
      }
      machine.validateBatch(vm, pfns.length, ops, pfns, writes);
      long[] reads = new long[pfns.length];
      BatchResult result = new BatchResult();
      machine.applyBatch(vm, pfns.length, ops, pfns, values, reads, result);
      machine.checkInvariants();
      return java.util.Arrays.copyOf(reads, result.reads());
    }

    /** Writes each PFN's own token. */
    Guest write(int... pfns) {
      apply(AccessOps.WRITE, pfns);
      return this;
    }

    List<Long> read(int... pfns) {
      return java.util.Arrays.stream(apply(AccessOps.READ, pfns)).boxed().toList();
    }

    List<Long> tokens(int... pfns) {
      return IntStream.of(pfns).mapToObj(p -> token(on.getVmId(), p)).toList();
    }
  }

  /** Attaches an access stream for the VM, as its guest agent does, and answers the stream's request side. */
  private ClientCallStreamObserver<AccessRequest> attach(PowerOnResponse vm) throws InterruptedException {
    Recorder<AccessResponse> responses = new Recorder<>();
    ClientCallStreamObserver<AccessRequest> requests =
        (ClientCallStreamObserver<AccessRequest>) machinesAsync.access(responses);
    requests.onNext(AccessRequest.newBuilder()
        .setAttach(AccessAttach.newBuilder().setVmId(vm.getVmId()).setCredential(vm.getCredential()))
        .build());
    assertTrue(responses.next().hasAttached());
    return requests;
  }

  /**
   * A doorbell listener. It controls its own flow: it asks for {@code room} rings up front, so a ring never
   * finds the stream without a request pending (see {@link #aRingWhileTheDriverIsBusyIsNotLost}).
   */
  static final class Doorbell implements ClientResponseObserver<BalloonDoorbellRequest, BalloonTargetReply> {
    final List<BalloonTargetReply> rings = new CopyOnWriteArrayList<>();
    private final int room;
    volatile Status end;
    volatile ClientCallStreamObserver<BalloonDoorbellRequest> call;

    Doorbell(int room) {
      this.room = room;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<BalloonDoorbellRequest> requestStream) {
      call = requestStream;
      requestStream.disableAutoRequestWithInitial(room);
    }

    @Override
    public void onNext(BalloonTargetReply value) {
      rings.add(value);
    }

    @Override
    public void onError(Throwable t) {
      end = Status.fromThrowable(t);
    }

    @Override
    public void onCompleted() {
      end = Status.OK;
    }

    BalloonTargetReply last() {
      return rings.isEmpty() ? null : rings.get(rings.size() - 1);
    }

    void awaitLast(UnaryOperator<BalloonTargetReply.Builder> expected) {
      BalloonTargetReply want = expected.apply(BalloonTargetReply.newBuilder()).build();
      await().atMost(PATIENCE).untilAsserted(() -> assertEquals(want, last(), "rings so far: " + rings));
    }

    void awaitEnd(Status.Code code) {
      await().atMost(PATIENCE).untilAsserted(() -> {
        assertNotNull(end, "the doorbell is still open");
        assertEquals(code, end.getCode(), end.toString());
      });
    }
  }

  private Doorbell listen(BalloonCredentials creds, long session) {
    Doorbell bell = new Doorbell(1_000);
    balloonAsync.doorbell(doorbellRequest(creds, session), bell);
    return bell;
  }

  // ---------------------------------------------------------------- Start

  @Test
  void startGrantsWhatWasAskedAndBatchesOnlyWithTheBatchedCapability() {
    PowerOnResponse on = powerOn("vm", 32);
    BalloonStartResponse all = start(creds(on), BATCHED, DOORBELL, STATS);
    assertNotEquals(0, all.getSessionId());
    assertEquals(List.of(BATCHED, DOORBELL, STATS), all.getGrantedList());
    assertEquals(BALLOON_BATCH, all.getMaxBatchPages());
    assertEquals(BalloonTargetReply.getDefaultInstance(), all.getTarget());

    BalloonStartResponse doorbellOnly = start(creds(on), DOORBELL);
    assertEquals(List.of(DOORBELL), doorbellOnly.getGrantedList());
    assertEquals(1, doorbellOnly.getMaxBatchPages(), "without batched locks, one page a call");

    BalloonStartResponse none = start(creds(on));
    assertEquals(List.of(), none.getGrantedList());
    assertEquals(1, none.getMaxBatchPages());

    // Unspecified, repeated and unknown capabilities are not granted.
    BalloonStartResponse odd = balloon.start(BalloonStartRequest.newBuilder().setVm(creds(on))
        .addCapabilities(BalloonCapability.BALLOON_CAPABILITY_UNSPECIFIED).addCapabilities(STATS)
        .addCapabilities(STATS).addCapabilitiesValue(99).addCapabilities(BATCHED).build());
    assertEquals(List.of(STATS, BATCHED), odd.getGrantedList());
    assertEquals(BALLOON_BATCH, odd.getMaxBatchPages());

    List<Long> sessions = List.of(all.getSessionId(), doorbellOnly.getSessionId(), none.getSessionId(),
        odd.getSessionId());
    assertEquals(4, sessions.stream().distinct().count(), "every Start opens a new session: " + sessions);
    BalloonState b = vm(on).getBalloon();
    assertTrue(b.getDriverConnected());
    assertEquals(odd.getSessionId(), b.getSessionId());
    assertTrue(b.getLastContactMsAgo() >= 0);
  }

  @Test
  void startAnswersTheCurrentTargetAndModeAndReplacesTheOldSession() {
    PowerOnResponse on = powerOn("vm", 32);
    setTarget(on, 12);
    setMode(byId(on), DriverModeRequest.newBuilder().setMode(DriverMode.DRIVER_MODE_LATE).setLateMs(250).build());
    BalloonStartResponse first = start(on);
    assertEquals(BalloonTargetReply.newBuilder().setTargetPages(12)
        .setRequestedMode(DriverModeRequest.newBuilder().setMode(DriverMode.DRIVER_MODE_LATE).setLateMs(250))
        .build(), first.getTarget());
    assertEquals(statuses(OK, OK), lock(on, first.getSessionId(), 0, 1).getStatusesList());

    BalloonStartResponse second = start(on);
    assertStatus(Status.Code.FAILED_PRECONDITION, () -> lock(on, first.getSessionId(), 2));
    assertEquals(2, vm(on).getBalloon().getSizePages(), "pages locked under the old session stay locked");
    assertEquals(statuses(ALREADY_LOCKED, OK), lock(on, second.getSessionId(), 0, 2).getStatusesList());
  }

  // ---------------------------------------------------------------- happy paths

  @Test
  void aDriverInflatesPollsReportsAndDeflates() {
    PowerOnResponse on = powerOn("vm", 32);
    Guest guest = new Guest(on).write(range(0, 12));
    MachineState m0 = machineState();
    assertEquals(FRAMES - 12, m0.getFreeFrames());
    setTarget(on, 6);
    long session = start(on).getSessionId();

    BalloonTargetReply polled = balloon.getTarget(getTarget(creds(on), session, 0));
    assertEquals(BalloonTargetReply.newBuilder().setTargetPages(6).build(), polled);

    BalloonPagesReply locked = lock(on, session, 0, 1, 2, 3, 20, 21, 22, 23);
    assertEquals(statuses(OK, OK, OK, OK, OK, OK, REFUSED, REFUSED), locked.getStatusesList());
    assertEquals(6, locked.getTarget().getTargetPages());
    assertFalse(locked.getTarget().getReset());
    MachineState m1 = machineState();
    assertEquals(m0.getFreeFrames() + 4, m1.getFreeFrames(), "four mapped pages gave their frames back");
    assertEquals(m1.getMachineFrames(), m1.getFreeFrames() + m1.getMappedFrames());
    VmState v = vm(on);
    assertEquals(8, v.getMappedPages());
    assertEquals(6, v.getBalloon().getSizePages());
    assertEquals(2, v.getBalloon().getRefusedPages());

    BalloonTargetReply reported = balloon.reportStats(stats(creds(on), session, BalloonStats.newBuilder()
        .setSwapIn(1).setSwapOut(2).setMajorFaults(3).setMinorFaults(4).setFreePages(5).setTotalPages(32)
        .setAvailablePages(7).build()));
    assertEquals(6, reported.getTargetPages());
    assertEquals(6, balloon.getTarget(getTarget(creds(on), session, 6)).getTargetPages());
    // The stats are kept as the VM's latest, and every view shows them.
    BalloonStats kept = vm(on).getGuestStats().getStats();
    assertEquals(BalloonStats.newBuilder().setSwapIn(1).setSwapOut(2).setMajorFaults(3).setMinorFaults(4)
        .setFreePages(5).setTotalPages(32).setAvailablePages(7).build(), kept);
    assertEquals(1, vm(on).getGuestStats().getReports());
    assertEquals(kept, management.listVms(ListVmsRequest.getDefaultInstance()).getVms(0).getGuestStats().getStats());
    assertEquals(5, machine.vm(on.getVmId()).guestStats().stats().freePages(), "in the machine's snapshot too");

    // The operator lowers the target; the driver deflates and the pages come back as zero pages.
    setTarget(on, 2);
    BalloonPagesReply unlocked = unlock(on, session, 0, 1, 20, 21, 5);
    assertEquals(statuses(OK, OK, OK, OK, NOT_LOCKED), unlocked.getStatusesList());
    assertEquals(2, unlocked.getTarget().getTargetPages());
    assertEquals(List.of(0L, 0L, token(on.getVmId(), 5)), guest.read(0, 1, 5));
    assertEquals(2, vm(on).getBalloon().getSizePages());
    assertEquals(0, vm(on).getCounters().getBalloonFaults(), "unlocked pages are the guest's again");
    // PFNs 2 and 3 are still in the balloon: touching one resets it, and both come back as zero pages.
    assertEquals(List.of(0L, 0L), guest.read(2, 3));
    VmState after = vm(on);
    BalloonState b = after.getBalloon();
    assertEquals(2, b.getTargetPages());
    assertEquals(0, b.getSizePages());
    assertEquals(1, b.getResets());
    assertEquals(1, after.getCounters().getBalloonFaults());
    assertEquals(6, b.getLockedTotal());
    assertEquals(4, b.getUnlockedTotal());
  }

  @Test
  void theDoorbellRingsAtOnceThenOnEveryChangeAndEndsAtPowerOff() {
    PowerOnResponse on = powerOn("vm", 32);
    PowerOnResponse other = powerOn("other", 32);
    setTarget(on, 3);
    long session = start(on).getSessionId();
    Doorbell bell = listen(creds(on), session);
    bell.awaitLast(b -> b.setTargetPages(3));

    VmState state = setTarget(byId(on), 5);
    assertEquals(5, state.getBalloon().getTargetPages());
    bell.awaitLast(b -> b.setTargetPages(5));
    setTarget(byName("vm"), 9);
    bell.awaitLast(b -> b.setTargetPages(9));

    DriverModeRequest slow = DriverModeRequest.newBuilder().setMode(DriverMode.DRIVER_MODE_SLOW)
        .setPagesPerSecond(64).build();
    setMode(byId(on), slow);
    bell.awaitLast(b -> b.setTargetPages(9).setRequestedMode(slow));

    // Another VM's changes are not ours to hear; ours still arrive after them.
    setTarget(other, 7);
    setTarget(on, 10);
    bell.awaitLast(b -> b.setTargetPages(10).setRequestedMode(slow));
    assertTrue(bell.rings.stream().noneMatch(r -> r.getTargetPages() == 7), bell.rings.toString());

    // The guest touches a ballooned page: the doorbell says reset.
    assertEquals(statuses(OK), lock(on, session, 4).getStatusesList());
    new Guest(on).read(4);
    bell.awaitLast(b -> b.setTargetPages(10).setRequestedMode(slow).setReset(true));
    assertNull(bell.end);

    powerOff(on);
    bell.awaitEnd(Status.Code.OK);
  }

  @Test
  void everyListenerOfAVmHearsTheRingAndACancelledOneIsForgotten() {
    PowerOnResponse on = powerOn("vm", 32);
    long session = start(on).getSessionId();
    Doorbell first = listen(creds(on), session);
    Doorbell second = listen(creds(on), session);
    first.awaitLast(b -> b);
    second.awaitLast(b -> b);
    setTarget(on, 4);
    first.awaitLast(b -> b.setTargetPages(4));
    second.awaitLast(b -> b.setTargetPages(4));

    first.call.cancel("driver unloaded", null);
    first.awaitEnd(Status.Code.CANCELLED);
    int heard = first.rings.size();
    setTarget(on, 6);
    second.awaitLast(b -> b.setTargetPages(6));
    assertEquals(heard, first.rings.size());
    powerOff(on);
    second.awaitEnd(Status.Code.OK);
  }

  @Test
  void theDoorbellEndsWhenTheGuestsStreamBreaks() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 32);
    long session = start(on).getSessionId();
    ClientCallStreamObserver<AccessRequest> guest = attach(on);
    new Guest(on).write(0);
    Doorbell bell = listen(creds(on), session);
    bell.awaitLast(b -> b);
    guest.cancel("guest died", null);
    bell.awaitEnd(Status.Code.OK);
    assertStatus(Status.Code.NOT_FOUND, () -> vm(on));
  }

  /**
   * A driver busy with its last ring has no request pending when the next one comes. The doorbell says it keeps
   * one pending message for a slow reader; the driver must still learn of the latest target once it reads again.
   */
  @Test
  void aRingWhileTheDriverIsBusyIsNotLost() {
    PowerOnResponse on = powerOn("vm", 32);
    PowerOnResponse marker = powerOn("marker", 32);
    long session = start(on).getSessionId();
    Doorbell busy = new Doorbell(1);
    balloonAsync.doorbell(doorbellRequest(creds(on), session), busy);
    busy.awaitLast(b -> b);
    // The driver has used its one request. The target changes while it is busy.
    setTarget(on, 8);
    // The ringer is one thread in order: once the marker VM's ring arrives, ours has been handled.
    Doorbell markerBell = listen(creds(marker), start(marker).getSessionId());
    setTarget(marker, 1);
    markerBell.awaitLast(b -> b.setTargetPages(1));
    busy.call.request(1);
    busy.awaitLast(b -> b.setTargetPages(8));
  }

  /** A machine can outlive its server (tests, an in-process lab): its balloon calls must keep working. */
  @Test
  void theMachineOutlivesItsServer() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 32);
    long session = start(on).getSessionId();
    Doorbell bell = listen(creds(on), session);
    bell.awaitLast(b -> b);
    server.stop();
    Vm vm = machine.vmById(on.getVmId());
    machine.setBalloonTarget(vm, 3);
    assertEquals(3, machine.vm(vm.id()).balloon().targetPages());
  }

  // ---------------------------------------------------------------- hostile clients

  @Test
  void anotherVmsCredentialIsPermissionDeniedAndChangesNothing() {
    PowerOnResponse attacker = powerOn("attacker", 32);
    PowerOnResponse victim = powerOn("victim", 32);
    new Guest(victim).write(range(0, 10));
    setTarget(victim, 4);
    long victimSession = start(victim).getSessionId();
    assertEquals(all(OK, 2), lock(victim, victimSession, 0, 1).getStatusesList());
    long attackerSession = start(attacker).getSessionId();
    List<Object> before = everything(victim, attacker);

    BalloonCredentials forged = BalloonCredentials.newBuilder().setVmId(victim.getVmId())
        .setCredential(attacker.getCredential()).build();
    for (long session : new long[] {victimSession, attackerSession, 0}) {
      assertAllRefused(Status.Code.PERMISSION_DENIED, forged, session);
    }
    BalloonCredentials empty = BalloonCredentials.newBuilder().setVmId(victim.getVmId()).build();
    assertAllRefused(Status.Code.PERMISSION_DENIED, empty, victimSession);
    BalloonCredentials tweaked = BalloonCredentials.newBuilder().setVmId(victim.getVmId())
        .setCredential(victim.getCredential() + "0").build();
    assertAllRefused(Status.Code.PERMISSION_DENIED, tweaked, victimSession);

    assertEquals(before, everything(victim, attacker), "the victim's balloon and frames are untouched");
    // The victim's driver still holds its session: a forged Start did not replace it.
    assertEquals(4, balloon.getTarget(getTarget(creds(victim), victimSession, 2)).getTargetPages());
    // The attacker's own credential with the victim's session is just a stale session of its own VM.
    assertStatus(Status.Code.FAILED_PRECONDITION, () -> lock(attacker, victimSession, 0));
  }

  @Test
  void anUnknownVmIsNotFound() {
    PowerOnResponse on = powerOn("vm", 32);
    long session = start(on).getSessionId();
    List<Object> before = everything(on);
    BalloonCredentials unknown = BalloonCredentials.newBuilder().setVmId(on.getVmId() + 100)
        .setCredential(on.getCredential()).build();
    assertAllRefused(Status.Code.NOT_FOUND, unknown, session);
    assertAllRefused(Status.Code.NOT_FOUND, BalloonCredentials.getDefaultInstance(), session);
    assertAllRefused(Status.Code.NOT_FOUND, BalloonCredentials.newBuilder().setVmId(-1).build(), 0);
    assertEquals(before, everything(on));
  }

  /** Every balloon call with these credentials and session ends with {@code code}. */
  private void assertAllRefused(Status.Code code, BalloonCredentials creds, long session) {
    assertStatus(code, () -> start(creds, BATCHED));
    assertStatus(code, () -> balloon.getTarget(getTarget(creds, session, 0)));
    assertStatus(code, () -> balloon.lock(pages(creds, session, 2, 3)));
    assertStatus(code, () -> balloon.unlock(pages(creds, session, 0, 1)));
    assertStatus(code, () -> balloon.reportStats(stats(creds, session, BalloonStats.getDefaultInstance())));
    assertStatus(code, () -> doorbellBlocking(creds, session));
  }

  /** Opens a doorbell and reads its first message; the call must fail before one comes. */
  private void doorbellBlocking(BalloonCredentials creds, long session) {
    Iterator<BalloonTargetReply> rings = balloon.withDeadlineAfter(PATIENCE.toSeconds(), TimeUnit.SECONDS)
        .doorbell(doorbellRequest(creds, session));
    fail("the doorbell opened and rang " + rings.next());
  }

  @Test
  void forgedPfnsAreInvalidAndChangeNothing() {
    PowerOnResponse on = powerOn("vm", 32);
    Guest guest = new Guest(on).write(range(0, 8));
    setTarget(on, 32);
    long session = start(on).getSessionId();
    List<Object> before = everything(on);
    int[] forged = {-1, 32, 33, Integer.MAX_VALUE, Integer.MIN_VALUE, -32, 1 << 28};
    BalloonPagesReply locked = lock(on, session, forged);
    assertEquals(all(INVALID, 7), locked.getStatusesList());
    assertEquals(32, locked.getTarget().getTargetPages());
    assertEquals(all(INVALID, 7), unlock(on, session, forged).getStatusesList());
    assertEquals(before, everything(on));
    assertEquals(guest.tokens(range(0, 8)), guest.read(range(0, 8)));
    // Mixed with good ones, only the good ones are taken.
    assertEquals(statuses(INVALID, OK, INVALID), lock(on, session, -1, 3, 32).getStatusesList());
    assertEquals(1, vm(on).getBalloon().getSizePages());
  }

  @Test
  void duplicatesAreTakenOnce() {
    PowerOnResponse on = powerOn("vm", 32);
    setTarget(on, 8);
    long session = start(on).getSessionId();
    assertEquals(statuses(OK, DUPLICATE, OK, DUPLICATE, DUPLICATE), lock(on, session, 3, 3, 4, 3, 4)
        .getStatusesList());
    BalloonState b = vm(on).getBalloon();
    assertEquals(2, b.getSizePages());
    assertEquals(2, b.getLockedTotal());
    assertEquals(statuses(OK, DUPLICATE, NOT_LOCKED), unlock(on, session, 4, 4, 5).getStatusesList());
    b = vm(on).getBalloon();
    assertEquals(1, b.getSizePages());
    assertEquals(1, b.getUnlockedTotal());
  }

  @Test
  void anOversizedBatchIsInvalidArgumentAndChangesNothing() {
    PowerOnResponse on = powerOn("vm", 32);
    new Guest(on).write(range(0, 12));
    setTarget(on, 20);
    long session = start(on).getSessionId();
    lock(on, session, 11);
    List<Object> before = everything(on);
    int[] tooMany = range(0, BALLOON_BATCH + 1);
    assertMentions(assertStatus(Status.Code.INVALID_ARGUMENT, () -> lock(on, session, tooMany)),
        "at most " + BALLOON_BATCH, "got " + (BALLOON_BATCH + 1));
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> unlock(on, session, tooMany));
    int[] huge = new int[10_000];
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> lock(on, session, huge));
    assertEquals(before, everything(on));
    assertEquals(all(OK, BALLOON_BATCH), lock(on, session, range(0, BALLOON_BATCH)).getStatusesList());
  }

  /** Bug: the max_batch_pages of 1 granted without BATCHED_LOCK is advertised but never enforced. */
  @Test
  void aSessionWithoutBatchedLocksMayNotBatch() {
    PowerOnResponse on = powerOn("vm", 32);
    setTarget(on, 8);
    BalloonStartResponse unbatched = start(creds(on), DOORBELL);
    assertEquals(1, unbatched.getMaxBatchPages());
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> lock(on, unbatched.getSessionId(), 0, 1));
    assertEquals(0, vm(on).getBalloon().getSizePages());
  }

  @Test
  void aStaleSessionIsFailedPrecondition() {
    PowerOnResponse on = powerOn("vm", 32);
    setTarget(on, 4);
    long old = start(on).getSessionId();
    lock(on, old, 0);
    long current = start(on).getSessionId();
    List<Object> before = everything(on);
    for (long stale : new long[] {old, 0, current + 1, -1}) {
      assertStatus(Status.Code.FAILED_PRECONDITION, () -> balloon.getTarget(getTarget(creds(on), stale, 1)));
      assertStatus(Status.Code.FAILED_PRECONDITION, () -> lock(on, stale, 1));
      assertStatus(Status.Code.FAILED_PRECONDITION, () -> unlock(on, stale, 0));
      assertStatus(Status.Code.FAILED_PRECONDITION,
          () -> balloon.reportStats(stats(creds(on), stale, BalloonStats.getDefaultInstance())));
      StatusRuntimeException e = assertStatus(Status.Code.FAILED_PRECONDITION,
          () -> doorbellBlocking(creds(on), stale));
      assertMentions(e, "not current");
    }
    assertEquals(before, everything(on));
    assertEquals(statuses(OK), unlock(on, current, 0).getStatusesList());
  }

  @Test
  void callsAfterPowerOffAreNotFound() {
    PowerOnResponse on = powerOn("vm", 32);
    new Guest(on).write(range(0, 4));
    setTarget(on, 4);
    long session = start(on).getSessionId();
    lock(on, session, 0, 9);
    powerOff(on);
    assertAllRefused(Status.Code.NOT_FOUND, creds(on), session);
    MachineState m = machineState();
    assertEquals(FRAMES, m.getFreeFrames());
    assertEquals(0, m.getPoweredOnVms());
    assertStatus(Status.Code.NOT_FOUND, () -> setTarget(byId(on), 1));
    assertStatus(Status.Code.NOT_FOUND, () -> setMode(byName("vm"), mode(DriverMode.DRIVER_MODE_ENABLED)));
  }

  @Test
  void aNegativeBalloonSizeIsInvalidArgument() {
    PowerOnResponse on = powerOn("vm", 32);
    long session = start(on).getSessionId();
    for (long pages : new long[] {-1, Long.MIN_VALUE}) {
      assertMentions(assertStatus(Status.Code.INVALID_ARGUMENT,
          () -> balloon.getTarget(getTarget(creds(on), session, pages))), String.valueOf(pages));
    }
    assertEquals(0, balloon.getTarget(getTarget(creds(on), session, Long.MAX_VALUE)).getTargetPages());
  }

  static Stream<Arguments> negativeStats() {
    return Stream.of(
        Arguments.of("swap_in", (UnaryOperator<BalloonStats.Builder>) b -> b.setSwapIn(-1)),
        Arguments.of("swap_out", (UnaryOperator<BalloonStats.Builder>) b -> b.setSwapOut(-2)),
        Arguments.of("major_faults", (UnaryOperator<BalloonStats.Builder>) b -> b.setMajorFaults(-3)),
        Arguments.of("minor_faults", (UnaryOperator<BalloonStats.Builder>) b -> b.setMinorFaults(-4)),
        Arguments.of("free_pages", (UnaryOperator<BalloonStats.Builder>) b -> b.setFreePages(-5)),
        Arguments.of("total_pages", (UnaryOperator<BalloonStats.Builder>) b -> b.setTotalPages(Long.MIN_VALUE)),
        Arguments.of("available_pages", (UnaryOperator<BalloonStats.Builder>) b -> b.setAvailablePages(-7)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("negativeStats")
  void negativeStatsAreInvalidArgument(String field, UnaryOperator<BalloonStats.Builder> bad) {
    PowerOnResponse on = powerOn("vm", 32);
    long session = start(on).getSessionId();
    BalloonStats good = BalloonStats.newBuilder().setSwapIn(1).setSwapOut(1).setMajorFaults(1).setMinorFaults(1)
        .setFreePages(1).setTotalPages(32).setAvailablePages(1).build();
    assertEquals(0, balloon.reportStats(stats(creds(on), session, good)).getTargetPages());
    assertMentions(assertStatus(Status.Code.INVALID_ARGUMENT,
        () -> balloon.reportStats(stats(creds(on), session, bad.apply(good.toBuilder()).build()))), "negative");
    assertEquals(good, vm(on).getGuestStats().getStats(), "a refused report does not replace the kept one");
    assertEquals(1, vm(on).getGuestStats().getReports());
  }

  // ---------------------------------------------------------------- the operator's controls

  @Test
  void setBalloonTargetByIdAndByName() {
    PowerOnResponse on = powerOn("web", 32);
    VmState byId = setTarget(byId(on), 10);
    assertEquals(on.getVmId(), byId.getVmId());
    assertEquals(10, byId.getBalloon().getTargetPages());
    VmState byName = setTarget(byName("web"), 0);
    assertEquals(0, byName.getBalloon().getTargetPages());
    assertEquals(32, setTarget(byName("web"), 32).getBalloon().getTargetPages(), "the whole VM is a valid target");
    assertEquals(32, vm(on).getBalloon().getTargetPages());
  }

  @Test
  void setBalloonTargetRefusals() {
    PowerOnResponse on = powerOn("web", 32);
    setTarget(on, 5);
    List<Object> before = everything(on);
    assertStatus(Status.Code.NOT_FOUND, () -> setTarget(VmSelector.newBuilder().setVmId(on.getVmId() + 1).build(),
        1));
    assertStatus(Status.Code.NOT_FOUND, () -> setTarget(byName("ghost"), 1));
    assertStatus(Status.Code.NOT_FOUND, () -> setTarget(byName(""), 1));
    assertMentions(assertStatus(Status.Code.INVALID_ARGUMENT, () -> setTarget(VmSelector.getDefaultInstance(), 1)),
        "id or name");
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> management.setBalloonTarget(
        SetBalloonTargetRequest.newBuilder().setTargetPages(1).build()));
    for (long target : new long[] {-1, 33, Long.MIN_VALUE, Long.MAX_VALUE}) {
      assertMentions(assertStatus(Status.Code.INVALID_ARGUMENT, () -> setTarget(byId(on), target)),
          String.valueOf(target));
      assertStatus(Status.Code.INVALID_ARGUMENT, () -> setTarget(byName("web"), target));
    }
    assertEquals(before, everything(on));
  }

  @Test
  void setDriverModeByIdAndByNameReachesTheDriver() {
    PowerOnResponse on = powerOn("web", 32);
    long session = start(on).getSessionId();
    assertFalse(balloon.getTarget(getTarget(creds(on), session, 0)).hasRequestedMode());

    DriverModeRequest stuck = DriverModeRequest.newBuilder().setMode(DriverMode.DRIVER_MODE_STUCK)
        .setStuckProbability(0.5).build();
    VmState byId = setMode(byId(on), stuck);
    assertEquals("stuck:0.5", byId.getBalloon().getRequestedMode());
    assertEquals(stuck, balloon.getTarget(getTarget(creds(on), session, 0)).getRequestedMode());

    DriverModeRequest disabled = mode(DriverMode.DRIVER_MODE_DISABLED);
    assertEquals("disabled", setMode(byName("web"), disabled).getBalloon().getRequestedMode());
    assertEquals(disabled, lock(on, session, 0).getTarget().getRequestedMode());
    assertEquals(disabled, balloon.reportStats(stats(creds(on), session, BalloonStats.getDefaultInstance()))
        .getRequestedMode());
    for (DriverMode m : List.of(DriverMode.DRIVER_MODE_ENABLED, DriverMode.DRIVER_MODE_UNINSTALLED,
        DriverMode.DRIVER_MODE_LATE)) {
      setMode(byId(on), mode(m));
      assertEquals(mode(m), balloon.getTarget(getTarget(creds(on), session, 0)).getRequestedMode());
    }
    assertEquals("late:0s", vm(on).getBalloon().getRequestedMode());
  }

  static Stream<Arguments> badModeRequests() {
    return Stream.of(
        Arguments.of("no mode at all", SetDriverModeRequest.newBuilder(), "needs a mode"),
        Arguments.of("unspecified mode", SetDriverModeRequest.newBuilder()
            .setMode(mode(DriverMode.DRIVER_MODE_UNSPECIFIED)), "required"),
        Arguments.of("unknown mode number", SetDriverModeRequest.newBuilder()
            .setMode(DriverModeRequest.newBuilder().setModeValue(42)), "required"),
        Arguments.of("slow without a rate", SetDriverModeRequest.newBuilder()
            .setMode(mode(DriverMode.DRIVER_MODE_SLOW)), "pages per second"),
        Arguments.of("negative rate", SetDriverModeRequest.newBuilder()
            .setMode(mode(DriverMode.DRIVER_MODE_SLOW).toBuilder().setPagesPerSecond(-1)), "negative"),
        Arguments.of("negative late time", SetDriverModeRequest.newBuilder()
            .setMode(mode(DriverMode.DRIVER_MODE_LATE).toBuilder().setLateMs(-1)), "negative"),
        Arguments.of("probability above 1", SetDriverModeRequest.newBuilder()
            .setMode(mode(DriverMode.DRIVER_MODE_STUCK).toBuilder().setStuckProbability(1.5)), "probability"),
        Arguments.of("probability NaN", SetDriverModeRequest.newBuilder()
            .setMode(mode(DriverMode.DRIVER_MODE_STUCK).toBuilder().setStuckProbability(Double.NaN)),
            "probability"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badModeRequests")
  void badDriverModeRequestsAreInvalidArgument(String what, SetDriverModeRequest.Builder request, String fragment) {
    PowerOnResponse on = powerOn("web", 32);
    setMode(byId(on), mode(DriverMode.DRIVER_MODE_ENABLED));
    List<Object> before = everything(on);
    assertMentions(assertStatus(Status.Code.INVALID_ARGUMENT,
        () -> management.setDriverMode(request.setVm(byId(on)).build())), fragment);
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> management.setDriverMode(request.setVm(byName("web")).build()));
    assertEquals(before, everything(on));
  }

  @Test
  void setDriverModeNeedsAKnownVm() {
    PowerOnResponse on = powerOn("web", 32);
    DriverModeRequest enabled = mode(DriverMode.DRIVER_MODE_ENABLED);
    assertStatus(Status.Code.NOT_FOUND, () -> setMode(VmSelector.newBuilder().setVmId(on.getVmId() + 7).build(),
        enabled));
    assertStatus(Status.Code.NOT_FOUND, () -> setMode(byName("ghost"), enabled));
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> setMode(VmSelector.getDefaultInstance(), enabled));
    assertStatus(Status.Code.INVALID_ARGUMENT,
        () -> management.setDriverMode(SetDriverModeRequest.newBuilder().setMode(enabled).build()));
    assertEquals("", vm(on).getBalloon().getRequestedMode());
  }

  // ---------------------------------------------------------------- what VmState.balloon tells

  @Test
  void theBalloonStateReflectsWhatHappened() {
    PowerOnResponse on = powerOn("vm", 32);
    BalloonState fresh = vm(on).getBalloon();
    assertEquals(BalloonState.newBuilder().setLastContactMsAgo(-1).build(), fresh);

    Guest guest = new Guest(on).write(range(0, 10));
    setTarget(on, 6);
    long session = start(on).getSessionId();
    assertEquals(statuses(OK, OK, OK, OK, OK, OK, REFUSED, REFUSED),
        lock(on, session, range(0, 8)).getStatusesList());
    setMode(byName("vm"), DriverModeRequest.newBuilder().setMode(DriverMode.DRIVER_MODE_SLOW)
        .setPagesPerSecond(100).build());
    setTarget(on, 5);
    assertEquals(statuses(OK), unlock(on, session, 0).getStatusesList());

    VmState mid = vm(on);
    BalloonState b = mid.getBalloon();
    assertEquals(5, b.getTargetPages());
    assertEquals(5, b.getSizePages());
    assertTrue(b.getDriverConnected());
    assertEquals(session, b.getSessionId());
    assertEquals(2, b.getRefusedPages());
    assertTrue(b.getLastContactMsAgo() >= 0);
    assertFalse(b.getUncooperative());
    assertEquals("slow:100", b.getRequestedMode());
    assertEquals(0, b.getResets());
    assertEquals(6, b.getLockedTotal());
    assertEquals(1, b.getUnlockedTotal());
    assertEquals(4, mid.getMappedPages(), "10 written, 6 ballooned, 1 given back without a frame");
    assertEquals(0, mid.getCounters().getBalloonFaults());

    // The guest touches PFN 1, which its driver gave away.
    assertEquals(List.of(0L), guest.read(1));
    VmState reset = vm(on);
    b = reset.getBalloon();
    assertEquals(0, b.getSizePages());
    assertEquals(1, b.getResets());
    assertEquals(5, b.getTargetPages());
    assertTrue(b.getDriverConnected(), "the session stays open until the driver starts over");
    assertEquals(1, reset.getCounters().getBalloonFaults());
    assertEquals(5, reset.getMappedPages(), "PFN 1 has a fresh frame");

    BalloonPagesReply afterReset = lock(on, session, 20, 21);
    assertEquals(all(RESET, 2), afterReset.getStatusesList());
    assertTrue(afterReset.getTarget().getReset());
    assertEquals(all(RESET, 1), unlock(on, session, 2).getStatusesList());
    assertTrue(balloon.getTarget(getTarget(creds(on), session, 0)).getReset());
    assertTrue(balloon.reportStats(stats(creds(on), session, BalloonStats.getDefaultInstance())).getReset());
    assertEquals(0, vm(on).getBalloon().getSizePages());

    BalloonStartResponse again = start(on);
    assertFalse(again.getTarget().getReset());
    assertEquals(all(OK, 2), lock(on, again.getSessionId(), 20, 21).getStatusesList());
    b = vm(on).getBalloon();
    assertEquals(2, b.getSizePages());
    assertEquals(8, b.getLockedTotal());
    assertEquals(again.getSessionId(), b.getSessionId());
    assertEquals(1, b.getResets());
  }

  @Test
  void aDriverThatMissesItsTargetIsUncooperativeUntilItMeetsIt() throws IOException {
    startServer(1);
    PowerOnResponse on = powerOn("vm", 32);
    letClockPass(2);
    assertFalse(vm(on).getBalloon().getUncooperative());
    setTarget(on, 4);
    long session = start(on).getSessionId();
    letClockPass(2);
    assertTrue(vm(on).getBalloon().getUncooperative());
    assertEquals(all(OK, 4), lock(on, session, 0, 1, 2, 3).getStatusesList());
    letClockPass(2);
    assertFalse(vm(on).getBalloon().getUncooperative());
  }
}
