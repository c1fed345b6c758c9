package org.balloonlab.hypervisor.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.Quotas;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.AccessAttach;
import org.balloonlab.proto.AccessBatch;
import org.balloonlab.proto.AccessBatchResult;
import org.balloonlab.proto.AccessOp;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
import org.balloonlab.proto.GetMachineRequest;
import org.balloonlab.proto.GetVmRequest;
import org.balloonlab.proto.GuestReport;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.MmuState;
import org.balloonlab.proto.TranslationMode;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOffRequest;
import org.balloonlab.proto.PowerOffResponse;
import org.balloonlab.proto.PowerOffVmRequest;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.SetBalloonTargetRequest;
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

/** The hypervisor's services end to end over an in-process transport. */
class HypervisorServerTest {
  static final int FRAMES = 64;
  static final int SLOTS = 256;
  static final int MAX_BATCH = 16;
  static final Duration NO_REAPING = Duration.ofHours(1);

  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  private Machine machine;
  private String serverName;
  private ManagedChannel channel;
  private MachineServiceGrpc.MachineServiceBlockingStub machineStub;
  private MachineServiceGrpc.MachineServiceStub asyncStub;
  private ManagementServiceGrpc.ManagementServiceBlockingStub management;

  @BeforeEach
  void startServer() throws IOException {
    startServer(FRAMES, SLOTS, NO_REAPING);
  }

  private void startServer(int frames, int slots, Duration detachTimeout) throws IOException {
    startServer(frames, slots, detachTimeout, null);
  }

  private void startServer(int frames, int slots, Duration detachTimeout, Quotas quotas) throws IOException {
    machine = grpc.register(new Machine(new MachineConfig(frames, slots,
        dir.resolve("host-" + frames + "-" + slots + ".swap"), MAX_BATCH, CostModel.DEFAULT, 3,
        MachineConfig.DEFAULT_BALLOON_BATCH, MachineConfig.DEFAULT_BALLOON_STALL_NANOS,
        org.balloonlab.hypervisor.policy.ReclamationSettings.ESX, quotas)));
    serverName = InProcessServerBuilder.generateName();
    grpc.register(new HypervisorServer(InProcessServerBuilder.forName(serverName), machine, detachTimeout).start());
    channel = newChannel();
    machineStub = MachineServiceGrpc.newBlockingStub(channel);
    asyncStub = MachineServiceGrpc.newStub(channel);
    management = ManagementServiceGrpc.newBlockingStub(channel);
  }

  private ManagedChannel newChannel() {
    return grpc.register(InProcessChannelBuilder.forName(serverName).build());
  }

  // ---------------------------------------------------------------- helpers

  /** Collects a call's responses; the end of the call is queued after them as its status. */
  static final class Recorder<T> implements StreamObserver<T> {
    private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    /** The error the call ended with, trailers and all. */
    volatile Throwable error;

    @Override
    public void onNext(T value) {
      events.add(value);
    }

    @Override
    public void onError(Throwable t) {
      error = t;
      events.add(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      events.add(Status.OK);
    }

    private Object take() throws InterruptedException {
      Object event = events.poll(10, TimeUnit.SECONDS);
      assertNotNull(event, "no response within 10 s");
      return event;
    }

    @SuppressWarnings("unchecked")
    T next() throws InterruptedException {
      Object event = take();
      if (event instanceof Status status) {
        fail("expected a response, the call ended with " + status);
      }
      return (T) event;
    }

    Status end() throws InterruptedException {
      Object event = take();
      if (event instanceof Status status) {
        return status;
      }
      fail("expected the end of the call, got " + event);
      return null;
    }
  }

  /** One guest's access stream. */
  final class AccessCall {
    final Recorder<AccessResponse> responses = new Recorder<>();
    final ClientCallStreamObserver<AccessRequest> requests;

    AccessCall() {
      this(asyncStub);
    }

    AccessCall(MachineServiceGrpc.MachineServiceStub stub) {
      requests = (ClientCallStreamObserver<AccessRequest>) stub.access(responses);
    }

    void sendAttach(int vmId, String credential) {
      requests.onNext(AccessRequest.newBuilder()
          .setAttach(AccessAttach.newBuilder().setVmId(vmId).setCredential(credential))
          .build());
    }

    AccessCall attach(PowerOnResponse vm) throws InterruptedException {
      sendAttach(vm.getVmId(), vm.getCredential());
      AccessResponse r = responses.next();
      assertTrue(r.hasAttached(), r.toString());
      assertEquals(vm.getVmId(), r.getAttached().getVmId());
      return this;
    }

    void send(AccessBatch.Builder batch) {
      requests.onNext(AccessRequest.newBuilder().setBatch(batch).build());
    }

    AccessBatchResult result() throws InterruptedException {
      AccessResponse r = responses.next();
      assertTrue(r.hasResult(), r.toString());
      return r.getResult();
    }

    AccessBatchResult apply(AccessBatch.Builder batch) throws InterruptedException {
      send(batch);
      AccessBatchResult result = result();
      assertEquals(batch.getSequence(), result.getSequence());
      return result;
    }

    Status end() throws InterruptedException {
      return responses.end();
    }
  }

  static AccessBatch.Builder batch(long sequence) {
    return AccessBatch.newBuilder().setSequence(sequence);
  }


  static AccessBatch.Builder write(AccessBatch.Builder b, int pfn, long value) {
    return AccessBatches.addWriteValue(AccessBatches.addPfn(AccessBatches.addOp(b, AccessOp.ACCESS_OP_WRITE_VALUE), pfn), value);
  }

  static AccessBatch.Builder read(AccessBatch.Builder b, int pfn) {
    return AccessBatches.addPfn(AccessBatches.addOp(b, AccessOp.ACCESS_OP_READ_VALUE), pfn);
  }

  static long token(int vmId, int pfn) {
    return 0xC000_0000_0000_0000L | ((long) vmId << 32) | pfn;
  }

  private PowerOnResponse powerOn(String name, long pages) {
    return machineStub.powerOn(PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName(name).setOsKind("linux").setMemoryPages(pages))
        .build());
  }

  private PowerOffResponse powerOff(PowerOnResponse vm) {
    return machineStub.powerOff(PowerOffRequest.newBuilder()
        .setVmId(vm.getVmId()).setCredential(vm.getCredential()).build());
  }

  private VmState vm(int id) {
    return management.getVm(GetVmRequest.newBuilder().setVmId(id).build());
  }

  private MachineState machineState() {
    return management.getMachine(GetMachineRequest.getDefaultInstance());
  }

  private static StatusRuntimeException assertStatus(Status.Code code, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    return e;
  }

  private static void assertEnded(Status status, Status.Code code, String... fragments) {
    assertEquals(code, status.getCode(), status.toString());
    for (String fragment : fragments) {
      assertNotNull(status.getDescription(), status.toString());
      assertTrue(status.getDescription().contains(fragment),
          "'" + status.getDescription() + "' should mention '" + fragment + "'");
    }
  }

  private static void assertConsistent(MachineState m) {
    assertEquals(m.getMachineFrames(), m.getFreeFrames() + m.getMappedFrames(), m.toString());
  }

  /** Writes {@code pages} distinct tokens in full batches and checks each result. */
  private void writePages(AccessCall call, int vmId, int pages) throws InterruptedException {
    long seq = 1000;
    for (int start = 0; start < pages; start += MAX_BATCH) {
      AccessBatch.Builder b = batch(seq++);
      for (int pfn = start; pfn < Math.min(pages, start + MAX_BATCH); pfn++) {
        write(b, pfn, token(vmId, pfn));
      }
      assertEquals(0, AccessBatches.readValues(call.apply(b)).size());
    }
  }

  private void assertPagesRead(AccessCall call, int vmId, int pages) throws InterruptedException {
    long seq = 2000;
    for (int start = 0; start < pages; start += MAX_BATCH) {
      AccessBatch.Builder b = batch(seq++);
      List<Long> expected = new ArrayList<>();
      for (int pfn = start; pfn < Math.min(pages, start + MAX_BATCH); pfn++) {
        read(b, pfn);
        expected.add(token(vmId, pfn));
      }
      assertEquals(expected, AccessBatches.readValues(call.apply(b)));
    }
  }

  // ---------------------------------------------------------------- lifecycle

  @Test
  void powerOnAndPowerOff() {
    PowerOnResponse on = powerOn("web-1", 128);
    assertTrue(on.getVmId() > 0);
    assertFalse(on.getCredential().isEmpty());
    assertEquals(MAX_BATCH, on.getMaxBatchAccesses());
    assertEquals(ProtoMapping.toProto(CostModel.DEFAULT), on.getCostModel());
    assertEquals(CostModel.DEFAULT.hiddenFaultNs(), on.getCostModel().getHiddenFaultNs());

    VmState state = vm(on.getVmId());
    assertEquals("web-1", state.getName());
    assertEquals("linux", state.getOsKind());
    assertEquals(128, state.getMemoryPages());
    assertFalse(state.getAttached());
    assertEquals(0, state.getMappedPages());
    MachineState m = machineState();
    assertEquals(1, m.getPoweredOnVms());
    assertEquals(128, m.getConfiguredPages());
    assertEquals(FRAMES, m.getFreeFrames());

    PowerOffResponse off = powerOff(on);
    assertEquals(on.getVmId(), off.getFinalState().getVmId());
    assertEquals("web-1", off.getFinalState().getName());
    assertStatus(Status.Code.NOT_FOUND, () -> vm(on.getVmId()));
    m = machineState();
    assertEquals(0, m.getPoweredOnVms());
    assertEquals(1, m.getVmsReleased());
    // The name is free again.
    assertNotEquals(on.getVmId(), powerOn("web-1", 8).getVmId());
  }

  @Test
  void powerOnRefusals() {
    powerOn("taken", 8);
    assertEnded(assertStatus(Status.Code.ALREADY_EXISTS, () -> powerOn("taken", 16)).getStatus(),
        Status.Code.ALREADY_EXISTS, "taken");
    assertEnded(assertStatus(Status.Code.INVALID_ARGUMENT,
            () -> machineStub.powerOn(PowerOnRequest.getDefaultInstance())).getStatus(),
        Status.Code.INVALID_ARGUMENT, "spec");
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> powerOn("zero", 0));
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> powerOn("negative", -5));
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> powerOn("huge", Machine.MAX_VM_PAGES + 1));
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> powerOn("bad name", 8));
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> powerOn("", 8));
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> machineStub.powerOn(PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName("kind").setOsKind("no/slashes").setMemoryPages(8)).build()));
    assertEquals(1, machineState().getPoweredOnVms());
  }

  @Test
  void reservationsAndSharesAreValidatedAndShown() {
    PowerOnResponse reserved = machineStub.powerOn(PowerOnRequest.newBuilder().setSpec(VmSpec.newBuilder()
        .setName("reserved").setMemoryPages(FRAMES).setMinPages(FRAMES / 2).setShares(777)).build());
    VmState state = vm(reserved.getVmId());
    assertEquals(FRAMES / 2, state.getReclamation().getMinPages());
    assertEquals(777, state.getReclamation().getShares());
    assertEquals(FRAMES, state.getReclamation().getAllocationTargetPages());
    assertEquals(FRAMES / 2, machineState().getReservedPages());
    assertEquals("high", machineState().getFreeState());
    assertEquals("esx", machineState().getPolicy());

    StatusRuntimeException tooMuch = assertStatus(Status.Code.RESOURCE_EXHAUSTED, () -> machineStub.powerOn(
        PowerOnRequest.newBuilder().setSpec(VmSpec.newBuilder().setName("greedy").setMemoryPages(FRAMES)
            .setMinPages(FRAMES / 2 + 1)).build()));
    assertTrue(tooMuch.getStatus().getDescription().contains("cannot reserve min"), tooMuch.getMessage());
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> machineStub.powerOn(PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName("bad-min").setMemoryPages(8).setMinPages(9)).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> machineStub.powerOn(PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName("bad-shares").setMemoryPages(8).setShares(-1)).build()));
    assertEquals(1, machineState().getPoweredOnVms(), "refusals change nothing");

    // A target by hand is pinned and cannot reach into the min; `automatic` hands it back.
    VmSelector selector = VmSelector.newBuilder().setName("reserved").build();
    assertStatus(Status.Code.INVALID_ARGUMENT, () -> management.setBalloonTarget(SetBalloonTargetRequest
        .newBuilder().setVm(selector).setTargetPages(FRAMES / 2 + 1).build()));
    VmState pinned = management.setBalloonTarget(SetBalloonTargetRequest.newBuilder().setVm(selector)
        .setTargetPages(FRAMES / 4).build());
    assertTrue(pinned.getReclamation().getTargetPinned());
    VmState unpinned = management.setBalloonTarget(SetBalloonTargetRequest.newBuilder().setVm(selector)
        .setAutomatic(true).build());
    assertFalse(unpinned.getReclamation().getTargetPinned());
  }

  @Test
  void powerOffRefusals() {
    PowerOnResponse on = powerOn("vm", 8);
    assertStatus(Status.Code.NOT_FOUND, () -> machineStub.powerOff(PowerOffRequest.newBuilder()
        .setVmId(on.getVmId() + 100).setCredential(on.getCredential()).build()));
    assertStatus(Status.Code.PERMISSION_DENIED, () -> machineStub.powerOff(PowerOffRequest.newBuilder()
        .setVmId(on.getVmId()).setCredential("guess").build()));
    assertStatus(Status.Code.PERMISSION_DENIED, () -> machineStub.powerOff(PowerOffRequest.newBuilder()
        .setVmId(on.getVmId()).build()));
    assertEquals("vm", vm(on.getVmId()).getName());
    powerOff(on);
    assertStatus(Status.Code.NOT_FOUND, () -> powerOff(on));
  }

  // ---------------------------------------------------------------- the access stream

  @Test
  void batchesAreAnsweredInOrderWithTheirReadsAndSequences() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 128);
    int id = on.getVmId();
    AccessCall call = new AccessCall().attach(on);
    assertTrue(vm(id).getAttached());

    AccessBatch.Builder first = batch(41);
    write(first, 0, token(id, 0));
    write(first, 1, token(id, 1));
    read(first, 0);
    read(first, 1);
    read(first, 2);
    AccessBatchResult r = call.apply(first);
    assertEquals(41, r.getSequence());
    assertEquals(List.of(token(id, 0), token(id, 1), 0L), AccessBatches.readValues(r));
    assertEquals(3, r.getHiddenFaults());
    CostModel c = CostModel.DEFAULT;
    long translation = vm(id).getMmu().getTranslationNs();
    // Two translations missed (two PFNs through the kernel's direct map: PFN 2's miss was the third), one hit.
    assertEquals(3 * 24 * c.pageWalkReferenceNs() + 2 * c.tlbHitNs(), translation);
    assertEquals(3 * (c.hiddenFaultNs() + c.zeroFrameNs()) + translation, r.getHypervisorNs());

    AccessBatch.Builder second = batch(42);
    read(second, 1);
    write(second, 1, 99L);
    read(second, 1);
    AccessBatchResult r2 = call.apply(second);
    assertEquals(List.of(token(id, 1), 99L), AccessBatches.readValues(r2));
    assertEquals(0, r2.getHiddenFaults());
    assertEquals(3 * c.tlbHitNs(), r2.getHypervisorNs(), "three TLB hits, nothing else");

    // An empty batch is answered too.
    assertEquals(0, AccessBatches.readValues(call.apply(batch(43))).size());

    VmState state = vm(id);
    assertEquals(3, state.getMappedPages());
    assertEquals(8, state.getCounters().getAccesses());
    assertEquals(3, state.getCounters().getWrites());
    assertEquals(5, state.getCounters().getReads());
    assertEquals(3, state.getCounters().getDemandZeroFaults());
    assertConsistent(machineState());
  }

  @Test
  void pipelinedBatchesComeBackInOrder() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 128);
    int id = on.getVmId();
    AccessCall call = new AccessCall().attach(on);
    int batches = 24;
    for (int i = 0; i < batches; i++) {
      AccessBatch.Builder b = batch(500 + i);
      int pfn = (i * 5) % 128;
      write(b, pfn, token(id, i));
      read(b, pfn);
      call.send(b);
    }
    for (int i = 0; i < batches; i++) {
      AccessBatchResult r = call.result();
      assertEquals(500 + i, r.getSequence());
      assertEquals(List.of(token(id, i)), AccessBatches.readValues(r));
    }
    assertEquals(2L * batches, vm(id).getCounters().getAccesses());
  }

  @Test
  void aCleanDetachKeepsTheVmAndItsDataForTheNextAttach() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 128);
    AccessCall call = new AccessCall().attach(on);
    writePages(call, on.getVmId(), 40);
    call.requests.onCompleted();
    assertEquals(Status.Code.OK, call.end().getCode());
    VmState state = vm(on.getVmId());
    assertFalse(state.getAttached());
    assertEquals(40, state.getMappedPages());

    AccessCall again = new AccessCall().attach(on);
    assertPagesRead(again, on.getVmId(), 40);
  }

  @Test
  void overcommittedDataSurvivesHostPagingOverTheWire() throws InterruptedException {
    PowerOnResponse a = powerOn("a", 96);
    PowerOnResponse b = powerOn("b", 96);
    AccessCall ca = new AccessCall().attach(a);
    AccessCall cb = new AccessCall().attach(b);
    writePages(ca, a.getVmId(), 96);
    writePages(cb, b.getVmId(), 96);
    MachineState m = machineState();
    assertEquals(2 * 96 - FRAMES, m.getHostPageOuts());
    assertEquals(0, m.getFreeFrames());
    assertPagesRead(ca, a.getVmId(), 96);
    assertPagesRead(cb, b.getVmId(), 96);
    m = machineState();
    assertTrue(m.getHostPageIns() > 0);
    assertConsistent(m);
    VmState va = vm(a.getVmId());
    assertEquals(va.getCounters().getHostSwapInFaults(), va.getCounters().getHostPageIns());
  }

  @Test
  void aBatchBeforeAttachIsFailedPrecondition() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 8);
    AccessCall call = new AccessCall();
    call.send(read(batch(1), 0));
    assertEnded(call.end(), Status.Code.FAILED_PRECONDITION, "attach");
    // Nothing happened to the VM: it can still attach.
    assertEquals(0, vm(on.getVmId()).getCounters().getAccesses());
    new AccessCall().attach(on);
    assertTrue(vm(on.getVmId()).getAttached());
  }

  @Test
  void anEmptyRequestIsInvalid() throws InterruptedException {
    AccessCall call = new AccessCall();
    call.requests.onNext(AccessRequest.getDefaultInstance());
    assertEnded(call.end(), Status.Code.INVALID_ARGUMENT, "an attach, a batch or the end of a quantum");
  }

  @Test
  void aSecondStreamCannotAttachTheSameVm() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 8);
    AccessCall first = new AccessCall().attach(on);
    AccessCall second = new AccessCall();
    second.sendAttach(on.getVmId(), on.getCredential());
    assertEnded(second.end(), Status.Code.FAILED_PRECONDITION, "already");
    // The first stream is unaffected.
    assertTrue(vm(on.getVmId()).getAttached());
    assertEquals(List.of(7L), AccessBatches.readValues(first.apply(read(write(batch(1), 3, 7L), 3))));
    assertEquals(1, machineState().getPoweredOnVms());
  }

  @Test
  void attachingTwiceOnOneStreamIsFailedPrecondition() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 8);
    AccessCall call = new AccessCall().attach(on);
    call.apply(write(batch(1), 0, 5L));
    call.sendAttach(on.getVmId(), on.getCredential());
    assertEnded(call.end(), Status.Code.FAILED_PRECONDITION, "already attached");
    // The VM stays on, detached, with its data.
    assertFalse(vm(on.getVmId()).getAttached());
    assertEquals(List.of(5L), AccessBatches.readValues(new AccessCall().attach(on).apply(read(batch(2), 0))));
  }

  @Test
  void attachRefusesWrongCredentialsAndUnknownVms() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 8);
    AccessCall wrong = new AccessCall();
    wrong.sendAttach(on.getVmId(), "not-it");
    assertEnded(wrong.end(), Status.Code.PERMISSION_DENIED);
    AccessCall unknown = new AccessCall();
    unknown.sendAttach(on.getVmId() + 50, on.getCredential());
    assertEnded(unknown.end(), Status.Code.NOT_FOUND);
    assertFalse(vm(on.getVmId()).getAttached());
    new AccessCall().attach(on);
  }

  static Stream<Arguments> invalidBatches() {
    UnaryOperator<AccessBatch.Builder> pfnOutOfRange = b -> read(b, 32);
    UnaryOperator<AccessBatch.Builder> negativePfn = b -> read(b, -1);
    UnaryOperator<AccessBatch.Builder> oversized = b -> {
      for (int i = 0; i <= MAX_BATCH; i++) {
        read(b, i);
      }
      return b;
    };
    UnaryOperator<AccessBatch.Builder> missingPfn = b -> AccessBatches.addOp(read(b, 1), AccessOp.ACCESS_OP_READ_VALUE);
    UnaryOperator<AccessBatch.Builder> extraPfn = b -> AccessBatches.addPfn(read(b, 1), 2);
    UnaryOperator<AccessBatch.Builder> missingWriteValue = b -> AccessBatches.addPfn(AccessBatches.addOp(write(b, 1, 5L), AccessOp.ACCESS_OP_WRITE_VALUE), 2);
    UnaryOperator<AccessBatch.Builder> strayWriteValue = b -> AccessBatches.addWriteValue(read(read(b, 1), 2), 5L);
    UnaryOperator<AccessBatch.Builder> moreValuesThanAccesses = b -> AccessBatches.addWriteValue(AccessBatches.addWriteValue(read(b, 1), 5L), 6L);
    UnaryOperator<AccessBatch.Builder> unspecifiedOp = b -> AccessBatches.addPfn(AccessBatches.addOp(b, AccessOp.ACCESS_OP_UNSPECIFIED_VALUE), 1);
    UnaryOperator<AccessBatch.Builder> unknownOpNumber = b -> AccessBatches.addPfn(AccessBatches.addOp(b, 16), 1);
    UnaryOperator<AccessBatch.Builder> asidOutOfRange = b -> AccessBatches.entry(b, AccessOp.ACCESS_OP_READ_VALUE,
        4096, 0, 1);
    UnaryOperator<AccessBatch.Builder> kernelVpnNotPfn = b -> AccessBatches.entry(b, AccessOp.ACCESS_OP_READ_VALUE,
        0xFFFF, 2, 1);
    UnaryOperator<AccessBatch.Builder> negativeVpn = b -> AccessBatches.entry(b, AccessOp.ACCESS_OP_READ_VALUE,
        0, -5, 1);
    UnaryOperator<AccessBatch.Builder> eventWithoutAsid = b -> AccessBatches.addPfn(
        AccessBatches.addOp(b, AccessOp.ACCESS_OP_PT_MAP_VALUE), 1);
    UnaryOperator<AccessBatch.Builder> switchWithVpn = b -> AccessBatches.entry(b, AccessOp.ACCESS_OP_AS_SWITCH_VALUE,
        1, 7, 0);
    UnaryOperator<AccessBatch.Builder> unmapWithPfn = b -> AccessBatches.entry(b, AccessOp.ACCESS_OP_PT_UNMAP_VALUE,
        1, 7, 3);
    UnaryOperator<AccessBatch.Builder> shortAsids = b -> AccessBatches.addVpn(
        AccessBatches.entry(b, AccessOp.ACCESS_OP_READ_VALUE, 0, 0, 1), 1);
    UnaryOperator<AccessBatch.Builder> asidsWithoutVpns = b -> AccessBatches.addAsid(read(b, 1), 0);
    UnaryOperator<AccessBatch.Builder> negativeReport = b -> read(b, 1)
        .setGuestReport(GuestReport.newBuilder().setAccesses(-1));
    return Stream.of(
        Arguments.of("PFN out of range", pfnOutOfRange, new String[] {"PFN 32", "out of range"}),
        Arguments.of("negative PFN", negativePfn, new String[] {"PFN -1"}),
        Arguments.of("oversized batch", oversized, new String[] {"at most " + MAX_BATCH, "got " + (MAX_BATCH + 1)}),
        Arguments.of("an op without a PFN", missingPfn, new String[] {"PFN", "2 operations and 1 PFNs"}),
        Arguments.of("a PFN without an op", extraPfn, new String[] {"1 operations and 2 PFNs"}),
        Arguments.of("a write without its value", missingWriteValue, new String[] {"2 writes", "1 write values"}),
        Arguments.of("a value without a write", strayWriteValue, new String[] {"0 writes", "1 write values"}),
        Arguments.of("more values than accesses", moreValuesThanAccesses, new String[] {"cannot carry 2 write values"}),
        Arguments.of("unspecified op", unspecifiedOp, new String[] {"unknown operation"}),
        Arguments.of("unknown op number", unknownOpNumber, new String[] {"unknown operation"}),
        Arguments.of("negative guest report", negativeReport, new String[] {"negative"}),
        Arguments.of("address space out of range", asidOutOfRange, new String[] {"address space 4096", "0..4095"}),
        Arguments.of("kernel access off the direct map", kernelVpnNotPfn, new String[] {"VPN 2", "PFN 1"}),
        Arguments.of("negative VPN", negativeVpn, new String[] {"VPN -5"}),
        Arguments.of("event without an address space", eventWithoutAsid, new String[] {"needs an address space"}),
        Arguments.of("switch with a VPN", switchWithVpn, new String[] {"VPN 0, got 7"}),
        Arguments.of("unmap with a PFN", unmapWithPfn, new String[] {"PFN 0, got 3"}),
        Arguments.of("VPNs not one per entry", shortAsids, new String[] {"4-byte VPN per entry", "8 bytes of VPNs"}),
        Arguments.of("address spaces without VPNs", asidsWithoutVpns, new String[] {"2 bytes of address spaces",
            "0 bytes of VPNs"}));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidBatches")
  void anInvalidBatchEndsTheStreamButKeepsTheVm(String what, UnaryOperator<AccessBatch.Builder> bad,
                                                String[] fragments) throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 32);
    AccessCall call = new AccessCall().attach(on);
    writePages(call, on.getVmId(), 20);
    VmState before = vm(on.getVmId());
    MachineState machineBefore = machineState();

    call.send(bad.apply(batch(77)));
    assertEnded(call.end(), Status.Code.INVALID_ARGUMENT, fragments);

    // Nothing was applied, the VM is still on and detached, and it may attach again with its data intact.
    VmState after = vm(on.getVmId());
    assertFalse(after.getAttached());
    assertEquals(before.getCounters(), after.getCounters());
    assertEquals(before.getMmu(), after.getMmu());
    assertEquals(before.getMappedPages(), after.getMappedPages());
    assertFalse(after.hasGuest());
    MachineState machineAfter = machineState();
    assertEquals(machineBefore.getFreeFrames(), machineAfter.getFreeFrames());
    assertEquals(1, machineAfter.getPoweredOnVms());
    AccessCall again = new AccessCall().attach(on);
    assertPagesRead(again, on.getVmId(), 20);
  }

  @Test
  void batchesAfterAnInvalidOneAreIgnored() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 8);
    AccessCall call = new AccessCall().attach(on);
    call.send(read(batch(1), 100));
    call.send(write(batch(2), 0, 5L));
    assertEnded(call.end(), Status.Code.INVALID_ARGUMENT, "PFN 100");
    // Whatever the client had in flight after the bad batch was not applied.
    assertEquals(0, vm(on.getVmId()).getCounters().getAccesses());
  }

  @Test
  void guestReportsAreRecorded() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 8);
    AccessCall call = new AccessCall().attach(on);
    GuestReport report = GuestReport.newBuilder().setAccesses(10).setTrueFaults(2).setFreePages(3)
        .setTotalPages(8).setWorkload("sequential").build();
    call.apply(read(batch(1), 0).setGuestReport(report));
    assertEquals(report, vm(on.getVmId()).getGuest());
  }

  @Test
  void resourceExhaustedEndsTheStreamAndAppliesNothing() throws IOException, InterruptedException {
    // Memory and host swap can no longer both fill for an admitted VM (host swap is reserved at power-on); the
    // translation-table budget is what a batch can still exhaust.
    startServer(FRAMES, SLOTS, NO_REAPING, new Quotas(8, 4L * FRAMES, 16));
    PowerOnResponse on = powerOn("vm", 6);
    AccessCall call = new AccessCall().attach(on);
    AccessBatch.Builder fill = batch(1);
    write(fill, 0, token(on.getVmId(), 0));
    call.apply(fill);
    VmState before = vm(on.getVmId());
    AccessBatch.Builder tooMuch = batch(2);
    for (int asid = 1; asid <= 8; asid++) {
      // Each a new address space: a root and three levels of guest table, 32 table pages in all.
      AccessBatches.entry(tooMuch, AccessOp.ACCESS_OP_PT_MAP_VALUE, asid, asid << 20, 1);
    }
    call.send(tooMuch);
    assertEnded(call.end(), Status.Code.RESOURCE_EXHAUSTED, "translation tables");
    VmState after = vm(on.getVmId());
    assertEquals(before.getCounters(), after.getCounters());
    assertEquals(before.getMmu(), after.getMmu());
    assertEquals(before.getMappedPages(), after.getMappedPages());
    assertFalse(after.getAttached());
  }

  @Test
  void aBatchForAVmPoweredOffUnderItsStreamIsFailedPrecondition() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 8);
    AccessCall call = new AccessCall().attach(on);
    call.apply(write(batch(1), 0, 5L));
    powerOff(on);
    call.send(read(batch(2), 0));
    assertEnded(call.end(), Status.Code.FAILED_PRECONDITION, "powered off");
    assertEquals(FRAMES, machineState().getFreeFrames());
  }

  @Test
  void aBatchForAVmTheOperatorPoweredOffSaysSoInAnErrorInfoDetail() throws Exception {
    PowerOnResponse on = powerOn("vm", 8);
    AccessCall call = new AccessCall().attach(on);
    call.apply(write(batch(1), 0, 5L));
    management.powerOffVm(PowerOffVmRequest.newBuilder().setVm(VmSelector.newBuilder().setName("vm")).build());
    call.send(read(batch(2), 0));
    assertEnded(call.end(), Status.Code.FAILED_PRECONDITION, "powered off (powered off by the operator)");

    com.google.rpc.Status status = StatusProto.fromThrowable(call.responses.error);
    assertNotNull(status, "the status carries details");
    assertEquals(Status.Code.FAILED_PRECONDITION.value(), status.getCode());
    assertEquals(1, status.getDetailsCount(), status.toString());
    assertTrue(status.getDetails(0).is(ErrorInfo.class), status.toString());
    ErrorInfo info = status.getDetails(0).unpack(ErrorInfo.class);
    assertEquals("VM_POWERED_OFF", info.getReason());
    assertEquals("balloonlab.org", info.getDomain());
    assertEquals(java.util.Map.of("vm", "vm", "why", "powered off by the operator"), info.getMetadataMap());
  }

  @Test
  void otherRefusalsCarryNoErrorInfo() throws Exception {
    PowerOnResponse on = powerOn("vm", 8);
    AccessCall call = new AccessCall().attach(on);
    call.send(read(batch(1), 8));
    assertEnded(call.end(), Status.Code.INVALID_ARGUMENT, "out of range");
    com.google.rpc.Status status = StatusProto.fromThrowable(call.responses.error);
    assertTrue(status == null || status.getDetailsCount() == 0, String.valueOf(status));
  }

  // ---------------------------------------------------------------- a guest that goes away

  static Stream<Arguments> waysToGoAway() {
    Consumer<AccessCall> cancel = call -> call.requests.cancel("the guest process died", null);
    Consumer<AccessCall> clientError = call -> call.requests.onError(new IllegalStateException("guest crashed"));
    return Stream.of(Arguments.of("ClientCallStreamObserver.cancel", cancel),
        Arguments.of("onError from the client", clientError));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("waysToGoAway")
  void aBrokenStreamReleasesTheVmAndAllItsFrames(String how, Consumer<AccessCall> goAway)
      throws InterruptedException {
    PowerOnResponse survivor = powerOn("survivor", 32);
    AccessCall survivorCall = new AccessCall().attach(survivor);
    writePages(survivorCall, survivor.getVmId(), 16);

    PowerOnResponse on = powerOn("doomed", 128);
    AccessCall call = new AccessCall().attach(on);
    writePages(call, on.getVmId(), 100);
    MachineState loaded = machineState();
    assertTrue(loaded.getHostSwapUsed() > 0, "the doomed VM's pages reached host swap: " + loaded);

    goAway.accept(call);
    assertEquals(Status.Code.CANCELLED, call.end().getCode());

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertStatus(Status.Code.NOT_FOUND, () -> vm(on.getVmId()));
      MachineState m = machineState();
      assertEquals(1, m.getPoweredOnVms());
      assertEquals(FRAMES - vm(survivor.getVmId()).getMappedPages(), m.getFreeFrames());
      assertEquals(vm(survivor.getVmId()).getHostSwappedPages(), m.getHostSwapUsed());
      assertEquals(1, m.getVmsReleased());
    });
    assertStatus(Status.Code.NOT_FOUND, () -> management.getVm(GetVmRequest.newBuilder().setName("doomed").build()));
    // The survivor keeps its data, and the machine gets everything back once it goes too.
    assertPagesRead(survivorCall, survivor.getVmId(), 16);
    survivorCall.requests.cancel("done", null);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      MachineState m = machineState();
      assertEquals(0, m.getPoweredOnVms());
      assertEquals(FRAMES, m.getFreeFrames());
      assertEquals(0, m.getHostSwapUsed());
    });
  }

  @Test
  void shuttingTheGuestsChannelDownReleasesItsVm() throws InterruptedException {
    PowerOnResponse on = powerOn("vm", 128);
    ManagedChannel guestChannel = newChannel();
    AccessCall call = new AccessCall(MachineServiceGrpc.newStub(guestChannel)).attach(on);
    writePages(call, on.getVmId(), 80);
    assertTrue(machineState().getHostSwapUsed() > 0);

    guestChannel.shutdownNow();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      MachineState m = machineState();
      assertEquals(0, m.getPoweredOnVms());
      assertEquals(FRAMES, m.getFreeFrames());
      assertEquals(0, m.getMappedFrames());
      assertEquals(0, m.getHostSwapUsed());
    });
    assertStatus(Status.Code.NOT_FOUND, () -> vm(on.getVmId()));
    assertEquals(Status.Code.UNAVAILABLE, call.end().getCode());
  }

  @Test
  void theReaperPowersOffVmsLeftWithoutAStream() throws IOException, InterruptedException {
    startServer(FRAMES, SLOTS, Duration.ofMillis(100));
    PowerOnResponse attached = powerOn("attached", 16);
    AccessCall keep = new AccessCall().attach(attached);
    keep.apply(write(batch(1), 0, 1L));
    PowerOnResponse neverAttached = powerOn("never", 16);
    PowerOnResponse detached = powerOn("detached", 16);
    AccessCall leave = new AccessCall().attach(detached);
    leave.apply(write(batch(1), 0, 2L));
    leave.requests.onCompleted();
    assertEquals(Status.Code.OK, leave.end().getCode());

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      ListVmsResponse list = management.listVms(ListVmsRequest.getDefaultInstance());
      assertEquals(List.of("attached"), list.getVmsList().stream().map(VmState::getName).toList());
    });
    assertStatus(Status.Code.NOT_FOUND, () -> vm(neverAttached.getVmId()));
    assertEquals(List.of(1L), AccessBatches.readValues(keep.apply(read(batch(2), 0))));
    assertEquals(FRAMES - 1, machineState().getFreeFrames());
  }

  // ---------------------------------------------------------------- management and health

  private PowerOnResponse powerOn(String name, long pages, TranslationMode mode) {
    return machineStub.powerOn(PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName(name).setOsKind("linux").setMemoryPages(pages)
            .setTranslationMode(mode))
        .build());
  }

  /** A process switches in, faults on VPN 5, the kernel fills PFN 3, the process writes it and reads it back. */
  private static AccessBatch.Builder firstTouch(long sequence) {
    AccessBatch.Builder b = batch(sequence);
    AccessBatches.entry(b, AccessOp.ACCESS_OP_AS_SWITCH_VALUE, 1, 0, 0);
    AccessBatches.entry(b, AccessOp.ACCESS_OP_GUEST_PAGE_FAULT_VALUE, 1, 5, 0);
    AccessBatches.addWriteValue(AccessBatches.entry(b, AccessOp.ACCESS_OP_WRITE_VALUE, 0xFFFF, 3, 3), 0L);
    AccessBatches.entry(b, AccessOp.ACCESS_OP_PT_MAP_VALUE, 1, 5, 3);
    AccessBatches.addWriteValue(AccessBatches.entry(b, AccessOp.ACCESS_OP_WRITE_VALUE, 1, 5, 3), 42L);
    return AccessBatches.entry(b, AccessOp.ACCESS_OP_READ_VALUE, 1, 5, 3);
  }

  @Test
  void translationModesAreChosenAtPowerOnAndReportedWithTheirExits() throws InterruptedException {
    PowerOnResponse nested = powerOn("nested", 16, TranslationMode.TRANSLATION_MODE_NESTED);
    PowerOnResponse shadow = powerOn("shadow", 16, TranslationMode.TRANSLATION_MODE_SHADOW);
    PowerOnResponse unspecified = powerOn("plain", 16);
    assertEquals(CostModel.DEFAULT.vmExitNs(), nested.getCostModel().getVmExitNs());
    assertEquals(CostModel.DEFAULT.pageWalkReferenceNs(), nested.getCostModel().getPageWalkReferenceNs());
    AccessBatchResult n = new AccessCall().attach(nested).apply(firstTouch(1));
    AccessBatchResult s = new AccessCall().attach(shadow).apply(firstTouch(1));
    assertEquals(List.of(42L), AccessBatches.readValues(n));
    assertEquals(List.of(42L), AccessBatches.readValues(s));
    assertTrue(s.getHypervisorNs() > n.getHypervisorNs(), "shadow paid for its exits");

    MmuState nm = vm(nested.getVmId()).getMmu();
    MmuState sm = vm(shadow.getVmId()).getMmu();
    assertEquals(TranslationMode.TRANSLATION_MODE_NESTED, nm.getMode());
    assertEquals(TranslationMode.TRANSLATION_MODE_SHADOW, sm.getMode());
    assertEquals(TranslationMode.TRANSLATION_MODE_NESTED, vm(unspecified.getVmId()).getMmu().getMode());
    assertEquals(0, nm.getExitsPageTableWrite() + nm.getExitsContextSwitch() + nm.getExitsGuestPageFault());
    assertEquals(1, sm.getExitsPageTableWrite());
    assertEquals(1, sm.getExitsContextSwitch());
    assertEquals(1, sm.getExitsGuestPageFault());
    assertEquals(1, sm.getReflectedFaults());
    assertEquals(1, nm.getExitsP2MFault());
    assertEquals(3, nm.getPageTableEvents());
    assertEquals(2, nm.getTlbMisses(), "the kernel's and the process's translation");
    assertEquals(1, nm.getTlbHits());
    assertEquals(48, nm.getWalkReferences());
    assertTrue(sm.getShadowTableBytes() > 0);
    assertEquals(0, nm.getShadowTableBytes());
    assertEquals(0, sm.getUntrackedTranslations());
    assertEquals(sm, management.listVms(ListVmsRequest.getDefaultInstance()).getVmsList().stream()
        .filter(v -> v.getName().equals("shadow")).findFirst().orElseThrow().getMmu(), "ListVms reports it too");
  }

  @Test
  void anUnknownTranslationModeIsRefused() {
    StatusRuntimeException e = assertStatus(Status.Code.INVALID_ARGUMENT, () -> machineStub.powerOn(
        PowerOnRequest.newBuilder().setSpec(VmSpec.newBuilder().setName("odd").setMemoryPages(4)
            .setTranslationModeValue(7)).build()));
    assertTrue(e.getStatus().getDescription().contains("translation mode"), e.getStatus().toString());
  }

  @Test
  void managementListsAndFindsVms() throws InterruptedException {
    PowerOnResponse a = powerOn("alpha", 32);
    PowerOnResponse b = powerOn("beta", 48);
    AccessCall call = new AccessCall().attach(b);
    writePages(call, b.getVmId(), 10);

    ListVmsResponse list = management.listVms(ListVmsRequest.getDefaultInstance());
    assertEquals(List.of(a.getVmId(), b.getVmId()), list.getVmsList().stream().map(VmState::getVmId).toList());
    assertEquals(List.of("alpha", "beta"), list.getVmsList().stream().map(VmState::getName).toList());
    MachineState m = list.getMachine();
    assertEquals(FRAMES, m.getMachineFrames());
    assertEquals(10, m.getMappedFrames());
    assertEquals(FRAMES - 10, m.getFreeFrames());
    assertEquals(SLOTS, m.getHostSwapSlots());
    assertEquals(2, m.getPoweredOnVms());
    assertEquals(80, m.getConfiguredPages());
    assertConsistent(m);

    VmState byId = vm(b.getVmId());
    VmState byName = management.getVm(GetVmRequest.newBuilder().setName("beta").build());
    assertEquals(byId, byName);
    assertEquals("beta", byId.getName());
    assertTrue(byId.getAttached());
    assertEquals(10, byId.getMappedPages());
    assertEquals(10, byId.getCounters().getDemandZeroFaults());
    assertEquals(10, byId.getCounters().getFramesZeroed());
    assertEquals(10, byId.getCounters().getWrites());
    assertEquals(10 * (CostModel.DEFAULT.hiddenFaultNs() + CostModel.DEFAULT.zeroFrameNs())
        + byId.getMmu().getTranslationNs(), byId.getCounters().getHypervisorNs());

    assertStatus(Status.Code.NOT_FOUND, () -> vm(999));
    assertStatus(Status.Code.NOT_FOUND, () -> vm(0));
    assertStatus(Status.Code.NOT_FOUND, () -> management.getVm(GetVmRequest.newBuilder().setName("gamma").build()));
    StatusRuntimeException none = assertStatus(Status.Code.INVALID_ARGUMENT,
        () -> management.getVm(GetVmRequest.getDefaultInstance()));
    assertTrue(none.getStatus().getDescription().contains("id or a name"), none.getStatus().toString());

    MachineState direct = machineState();
    assertEquals(m, direct);
  }

  @Test
  void anEmptyMachine() {
    MachineState m = machineState();
    assertEquals(FRAMES, m.getMachineFrames());
    assertEquals(FRAMES, m.getFreeFrames());
    assertEquals(0, m.getMappedFrames());
    assertEquals(0, m.getPoweredOnVms());
    assertEquals(0, management.listVms(ListVmsRequest.getDefaultInstance()).getVmsCount());
  }

  @Test
  void healthReportsServing() {
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
    assertEquals(HealthCheckResponse.ServingStatus.SERVING,
        health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus());
  }

  @Test
  void anInProcessServerHasNoPort() throws IOException {
    HypervisorServer server = grpc.register(new HypervisorServer(
        InProcessServerBuilder.forName(InProcessServerBuilder.generateName()), machine, NO_REAPING).start());
    assertEquals(-1, server.port());
  }
}
