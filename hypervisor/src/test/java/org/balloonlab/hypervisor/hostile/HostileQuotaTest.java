package org.balloonlab.hypervisor.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.balloonlab.hypervisor.grpc.HypervisorServer;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.Quotas;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.AccessAttach;
import org.balloonlab.proto.AccessBatch;
import org.balloonlab.proto.AccessOp;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
import org.balloonlab.proto.GetMachineRequest;
import org.balloonlab.proto.GetVmRequest;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOffRequest;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.QuantumDone;
import org.balloonlab.proto.TranslationMode;
import org.balloonlab.proto.VmSpec;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile clients over real gRPC (a hypervisor server on a localhost port, free-running clock): quota exhaustion,
 * oversized and malformed input. Each case asserts the status code and a bounded message, and then that the
 * legitimate VM powered on before it still has its stream answered, reads back every page it wrote (0 integrity
 * and isolation violations), and that frame accounting and the machine's invariants hold. Many of these inputs
 * were handled before the quotas: the suite documents that they are.
 */
class HostileQuotaTest {
  /** 16 MiB of machine memory; host swap of twice that, so the host swap reservation can bind before the quota. */
  private static final int FRAMES = 4096;
  private static final int SLOTS = 2 * FRAMES;
  private static final int MAX_BATCH = 1024;
  private static final int LEGIT_PAGES = 64;
  /** Longest status description any refusal may carry: refusals never echo unbounded input. */
  private static final int MAX_MESSAGE = 512;

  @TempDir
  Path dir;

  private Machine machine;
  private HypervisorServer server;
  private ManagedChannel channel;
  private MachineServiceGrpc.MachineServiceBlockingStub machineStub;
  private ManagementServiceGrpc.ManagementServiceBlockingStub management;
  private final List<Stream> streams = new ArrayList<>();
  private PowerOnResponse legit;
  private Stream legitStream;
  private long legitSequence;

  @BeforeEach
  void start() throws Exception {
    machine = new Machine(new MachineConfig(FRAMES, SLOTS, dir.resolve("host.swap"), MAX_BATCH, CostModel.DEFAULT,
        5, MachineConfig.DEFAULT_BALLOON_BATCH, MachineConfig.DEFAULT_BALLOON_STALL_NANOS,
        ReclamationSettings.ESX, null));
    // As the hypervisor command builds it: a message limit sized from the batch limit, handlers on the transport.
    int maxMessage = 16 * MAX_BATCH + (1 << 20);
    server = new HypervisorServer(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .maxInboundMessageSize(maxMessage).directExecutor(), machine, Duration.ofHours(1)).start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
        .maxInboundMessageSize(8 << 20).build();
    machineStub = MachineServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    management = ManagementServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    legit = powerOn(VmSpec.newBuilder().setName("legit").setMemoryPages(LEGIT_PAGES));
    legitStream = attach(legit);
    AccessBatch.Builder b = batch(++legitSequence);
    for (int pfn = 0; pfn < LEGIT_PAGES; pfn++) {
      write(b, pfn, legitToken(pfn));
    }
    legitStream.apply(b);
  }

  @AfterEach
  void stop() throws Exception {
    for (Stream s : streams) {
      s.cancel();
    }
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.stop();
    machine.close();
  }

  // ---------------------------------------------------------------- the legitimate VM keeps running

  private static long legitToken(int pfn) {
    return 0x1E61_7000_0000_0000L | pfn;
  }

  /** The legitimate VM is answered and reads back all it wrote; accounting and invariants hold. */
  private void assertLegitUnharmed() throws InterruptedException {
    AccessBatch.Builder b = batch(++legitSequence);
    for (int pfn = 0; pfn < LEGIT_PAGES; pfn++) {
      read(b, pfn);
    }
    AccessResponse r = legitStream.apply(b);
    ByteBuffer values = r.getResult().getReadValues().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    int violations = 0;
    for (int pfn = 0; pfn < LEGIT_PAGES; pfn++) {
      if (values.getLong() != legitToken(pfn)) {
        violations++;
      }
    }
    assertEquals(0, violations, "integrity or isolation violations of the legitimate VM");
    MachineState m = management.getMachine(GetMachineRequest.getDefaultInstance());
    assertEquals(m.getMachineFrames(), m.getFreeFrames() + m.getMappedFrames(), "frame accounting");
    assertTrue(m.getHostSwapReservedPages() <= m.getHostSwapSlots(), m.toString());
    VmState vm = management.getVm(GetVmRequest.newBuilder().setVmId(legit.getVmId()).build());
    assertTrue(vm.getAttached(), "the legitimate VM stays attached");
    machine.checkInvariants();
  }

  private static void assertRefused(StatusRuntimeException e, Status.Code code, String... mentions) {
    assertStatus(e.getStatus(), code, mentions);
  }

  private static void assertStatus(Status status, Status.Code code, String... mentions) {
    assertEquals(code, status.getCode(), String.valueOf(status));
    String description = status.getDescription();
    assertNotNull(description, "a refusal says what was wrong");
    assertTrue(description.length() <= MAX_MESSAGE, "unbounded message of " + description.length() + " chars");
    for (String m : mentions) {
      assertTrue(description.contains(m), "'" + description + "' should mention '" + m + "'");
    }
  }

  // ---------------------------------------------------------------- quotas

  @Test
  void twoThousandPowerOnsStopAtTheVmLimit() throws InterruptedException {
    int admitted = 0;
    int refused = 0;
    List<PowerOnResponse> on = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      try {
        on.add(powerOn(VmSpec.newBuilder().setName("flood-" + i).setMemoryPages(1)));
        admitted++;
      } catch (StatusRuntimeException e) {
        assertRefused(e, Status.Code.RESOURCE_EXHAUSTED, "--max-vms", "" + Quotas.DEFAULT_MAX_VMS);
        refused++;
      }
    }
    assertEquals(Quotas.DEFAULT_MAX_VMS - 1, admitted, "the legitimate VM holds one place");
    assertEquals(2000 - admitted, refused);
    assertEquals(Quotas.DEFAULT_MAX_VMS, management.getMachine(GetMachineRequest.getDefaultInstance())
        .getPoweredOnVms());
    assertLegitUnharmed();
    // Released on power-off: one place again.
    PowerOnResponse first = on.get(0);
    machineStub.powerOff(PowerOffRequest.newBuilder().setVmId(first.getVmId()).setCredential(first.getCredential())
        .build());
    powerOn(VmSpec.newBuilder().setName("after-power-off").setMemoryPages(1));
    assertLegitUnharmed();
  }

  @Test
  void configuredMemoryBeyondTheLimitIsRefusedAndChangesNothing() throws InterruptedException {
    // The first fits: 2F configured, F of it reserved in machine memory, F in host swap.
    powerOn(VmSpec.newBuilder().setName("big").setMemoryPages(2L * FRAMES).setMinPages(FRAMES - LEGIT_PAGES));
    MachineState before = management.getMachine(GetMachineRequest.getDefaultInstance());
    StatusRuntimeException e = refusedPowerOn(VmSpec.newBuilder().setName("bigger").setMemoryPages(2L * FRAMES));
    assertRefused(e, Status.Code.RESOURCE_EXHAUSTED, "--max-configured-memory", "" + 4 * FRAMES,
        "" + (2 * FRAMES + LEGIT_PAGES));
    MachineState after = management.getMachine(GetMachineRequest.getDefaultInstance());
    assertEquals(before.getConfiguredPages(), after.getConfiguredPages());
    assertEquals(before.getHostSwapReservedPages(), after.getHostSwapReservedPages());
    assertEquals(before.getPoweredOnVms(), after.getPoweredOnVms());
    assertLegitUnharmed();
  }

  @Test
  void aVmWhoseMemoryMinusMinDoesNotFitTheUnreservedHostSwapIsRefused() throws InterruptedException {
    StatusRuntimeException e = refusedPowerOn(VmSpec.newBuilder().setName("unbacked").setMemoryPages(SLOTS));
    assertRefused(e, Status.Code.RESOURCE_EXHAUSTED, "host swap", (SLOTS - LEGIT_PAGES) + " are free");
    // With enough of it reserved in machine memory, the same VM fits.
    powerOn(VmSpec.newBuilder().setName("unbacked").setMemoryPages(SLOTS).setMinPages(LEGIT_PAGES));
    assertEquals(SLOTS, management.getMachine(GetMachineRequest.getDefaultInstance()).getHostSwapReservedPages());
    assertLegitUnharmed();
  }

  /**
   * Sparse page-table events across all 4,096 address spaces, as the guest that filled a 768 MiB heap sent them:
   * each batch is refused once the VM's translation tables would pass their limit, the VM's charged state stays
   * under it, and the VM stays usable (it attaches again and its accesses are answered).
   */
  @Test
  void sparsePageTableEventsAcrossEveryAddressSpaceStopAtTheTranslationBudget() throws InterruptedException {
    PowerOnResponse hostile = powerOn(VmSpec.newBuilder().setName("sparse").setMemoryPages(256)
        .setTranslationMode(TranslationMode.TRANSLATION_MODE_SHADOW));
    Stream s = attach(hostile);
    int refusals = 0;
    int applied = 0;
    long sequence = 0;
    for (int round = 0; round < 8; round++) {
      for (int asid = 0; asid < 4096; asid += 256) {
        AccessBatch.Builder b = batch(++sequence);
        for (int i = 0; i < 256; i++) {
          // One VPN in each address space, far from the last: a new PDPT, PD and leaf each time.
          entry(b, AccessOp.ACCESS_OP_PT_MAP_VALUE, asid + i, (round << 27) | ((asid + i) << 9), 0);
        }
        s.send(b);
        Object answer = s.next();
        if (answer instanceof AccessResponse) {
          applied++;
          continue;
        }
        assertStatus(Status.fromThrowable((Throwable) answer), Status.Code.RESOURCE_EXHAUSTED,
            "translation tables", "--max-translation-tables", "not applied");
        refusals++;
        s = attach(hostile); // the VM stays on and usable: attach again and go on
      }
    }
    assertTrue(refusals > 0, "the budget must bite");
    VmState vm = management.getVm(GetVmRequest.newBuilder().setVmId(hostile.getVmId()).build());
    assertTrue(vm.getMmu().getTranslationTablePages() <= vm.getMmu().getTranslationTableLimitPages(),
        vm.getMmu().toString());
    assertEquals(Quotas.DEFAULT_TRANSLATION_TABLE_PAGES, vm.getMmu().getTranslationTableLimitPages());
    // Heap bound: the charged tables of this VM are under 2,048 table pages of ~2 KiB of heap each.
    assertTrue(applied > 0 && vm.getMmu().getTranslationTablePages() > Quotas.DEFAULT_TRANSLATION_TABLE_PAGES / 2,
        "applied " + applied + ", charged " + vm.getMmu().getTranslationTablePages());
    AccessBatch.Builder b = batch(++sequence);
    write(b, 7, 77L);
    read(b, 7);
    AccessResponse r = s.apply(b);
    assertEquals(77L, r.getResult().getReadValues().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
        .getLong());
    assertLegitUnharmed();
  }

  // ---------------------------------------------------------------- oversized input

  @Test
  void aBatchOverTheLimitIsRefused() throws InterruptedException {
    Stream s = attach(powerOn(VmSpec.newBuilder().setName("greedy").setMemoryPages(16)));
    AccessBatch.Builder b = batch(1);
    for (int i = 0; i <= MAX_BATCH; i++) {
      read(b, i % 16);
    }
    s.send(b);
    assertStatus(s.end(), Status.Code.INVALID_ARGUMENT, "at most " + MAX_BATCH, "" + (MAX_BATCH + 1));
    assertLegitUnharmed();
  }

  /**
   * A message over the server's inbound limit never reaches the service: the transport resets the stream. grpc-java
   * means RESOURCE_EXHAUSTED but, for a message after the first of a bidirectional stream, the client sees the
   * reset as CANCELLED (grpc/grpc-java#11245, open). The hypervisor sees a broken stream and releases the VM, as it
   * does for any guest whose stream breaks.
   */
  @Test
  void aMessageOverTheTransportLimitResetsTheStreamAndReleasesItsVm() throws InterruptedException {
    PowerOnResponse vm = powerOn(VmSpec.newBuilder().setName("huge-message").setMemoryPages(16));
    Stream s = attach(vm);
    s.apply(write(batch(1), 0, 9L));
    s.send(batch(2).setOps(ByteString.copyFrom(new byte[2 << 20])));
    Status status = s.end();
    assertTrue(status.getCode() == Status.Code.CANCELLED || status.getCode() == Status.Code.RESOURCE_EXHAUSTED,
        status.toString());
    assertTrue(status.getDescription() == null || status.getDescription().length() <= MAX_MESSAGE);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> management
        .getMachine(GetMachineRequest.getDefaultInstance()).getPoweredOnVms() == 1);
    assertEquals(LEGIT_PAGES, management.getMachine(GetMachineRequest.getDefaultInstance()).getMappedFrames());
    assertLegitUnharmed();
  }

  @Test
  void aNameOfOneMegabyteIsRefusedWithABoundedMessage() throws InterruptedException {
    String name = "n".repeat(1_000_000);
    StatusRuntimeException e = refusedPowerOn(VmSpec.newBuilder().setName(name).setMemoryPages(16));
    assertRefused(e, Status.Code.INVALID_ARGUMENT, "VM name", "1000000");
    e = refusedPowerOn(VmSpec.newBuilder().setName("kind").setOsKind(name).setMemoryPages(16));
    assertRefused(e, Status.Code.INVALID_ARGUMENT, "OS kind");
    assertLegitUnharmed();
  }

  @ParameterizedTest
  @MethodSource("hugeSpecs")
  void hugeOrNegativeSizesAreRefused(long memoryPages, long minPages, long shares) throws InterruptedException {
    StatusRuntimeException e = refusedPowerOn(VmSpec.newBuilder().setName("huge").setMemoryPages(memoryPages)
        .setMinPages(minPages).setShares(shares));
    assertRefused(e, Status.Code.INVALID_ARGUMENT);
    assertLegitUnharmed();
  }

  static List<Object[]> hugeSpecs() {
    return List.of(new Object[] {Long.MAX_VALUE, 0L, 0L}, new Object[] {Long.MIN_VALUE, 0L, 0L},
        new Object[] {0L, 0L, 0L}, new Object[] {-1L, 0L, 0L}, new Object[] {16L, 17L, 0L},
        new Object[] {16L, -1L, 0L}, new Object[] {16L, 0L, Long.MAX_VALUE}, new Object[] {16L, 0L, -5L},
        new Object[] {(long) FRAMES + SLOTS + 1, 0L, 0L});
  }

  // ---------------------------------------------------------------- malformed batches

  /** A malformed batch, the status it gets and words its message must hold. */
  record Malformed(String what, Consumer<AccessBatch.Builder> batch, Status.Code code, String mention) {
    @Override
    public String toString() {
      return what;
    }
  }

  static List<Malformed> malformedBatches() {
    return List.of(
        new Malformed("PFN bytes not a multiple of 4", b -> b.setOps(ops(1)).setPfns(ByteString.copyFrom(new byte[3])),
            Status.Code.INVALID_ARGUMENT, "4 bytes"),
        new Malformed("fewer PFNs than ops", b -> b.setOps(ops(1, 1)).setPfns(ints(0)),
            Status.Code.INVALID_ARGUMENT, "one PFN per operation"),
        new Malformed("write values not a multiple of 8",
            b -> b.setOps(ops(2)).setPfns(ints(0)).setWriteValues(ByteString.copyFrom(new byte[5])),
            Status.Code.INVALID_ARGUMENT, "8 bytes"),
        new Malformed("more write values than writes",
            b -> b.setOps(ops(1)).setPfns(ints(0)).setWriteValues(ByteString.copyFrom(new byte[16])),
            Status.Code.INVALID_ARGUMENT, "write values"),
        new Malformed("fewer write values than writes",
            b -> b.setOps(ops(2, 2)).setPfns(ints(0, 1)).setWriteValues(ByteString.copyFrom(new byte[8])),
            Status.Code.INVALID_ARGUMENT, "write values"),
        new Malformed("address spaces of the wrong length",
            b -> b.setOps(ops(1, 1)).setPfns(ints(0, 1)).setAsids(ByteString.copyFrom(new byte[2]))
                .setVpns(ints(0, 1)),
            Status.Code.INVALID_ARGUMENT, "address space"),
        new Malformed("VPNs without address spaces", b -> b.setOps(ops(1)).setPfns(ints(0)).setVpns(ints(0)),
            Status.Code.INVALID_ARGUMENT, "address space"),
        new Malformed("op code 0", b -> b.setOps(ops(0)).setPfns(ints(0)),
            Status.Code.INVALID_ARGUMENT, "unknown operation"),
        new Malformed("op code 10", b -> b.setOps(ops(10)).setPfns(ints(0)),
            Status.Code.INVALID_ARGUMENT, "unknown operation"),
        new Malformed("op code -1", b -> b.setOps(ops(-1)).setPfns(ints(0)),
            Status.Code.INVALID_ARGUMENT, "unknown operation"),
        new Malformed("a page-table event without an address space", b -> b.setOps(ops(4)).setPfns(ints(0)),
            Status.Code.INVALID_ARGUMENT, "address space"),
        new Malformed("a negative PFN", b -> b.setOps(ops(1)).setPfns(ints(-1)),
            Status.Code.INVALID_ARGUMENT, "out of range"),
        new Malformed("a PFN past the VM", b -> b.setOps(ops(1)).setPfns(ints(16)),
            Status.Code.INVALID_ARGUMENT, "out of range"),
        new Malformed("PFN Integer.MIN_VALUE", b -> b.setOps(ops(1)).setPfns(ints(Integer.MIN_VALUE)),
            Status.Code.INVALID_ARGUMENT, "out of range"),
        new Malformed("address space 4096", b -> b.setOps(ops(4)).setPfns(ints(0)).setAsids(chars(4096))
            .setVpns(ints(0)), Status.Code.INVALID_ARGUMENT, "address space"),
        new Malformed("address space 65534", b -> b.setOps(ops(1)).setPfns(ints(0)).setAsids(chars(65534))
            .setVpns(ints(0)), Status.Code.INVALID_ARGUMENT, "address space"),
        new Malformed("a negative VPN", b -> b.setOps(ops(4)).setPfns(ints(0)).setAsids(chars(1))
            .setVpns(ints(-1)), Status.Code.INVALID_ARGUMENT, "VPN"),
        new Malformed("a kernel access off the direct map", b -> b.setOps(ops(1)).setPfns(ints(3))
            .setAsids(chars(0xFFFF)).setVpns(ints(4)), Status.Code.INVALID_ARGUMENT, "direct map"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedBatches")
  void malformedBatchesAreRefusedAndChangeNothing(Malformed m) throws InterruptedException {
    PowerOnResponse vm = powerOn(VmSpec.newBuilder().setName("malformed").setMemoryPages(16));
    Stream s = attach(vm);
    VmState before = management.getVm(GetVmRequest.newBuilder().setVmId(vm.getVmId()).build());
    AccessBatch.Builder b = batch(1);
    m.batch().accept(b);
    s.send(b);
    assertStatus(s.end(), m.code(), m.mention());
    VmState after = management.getVm(GetVmRequest.newBuilder().setVmId(vm.getVmId()).build());
    assertEquals(before.getCounters(), after.getCounters(), "a refused batch changes nothing");
    assertEquals(before.getMappedPages(), after.getMappedPages());
    // The VM stays on and may attach again.
    attach(vm).apply(write(batch(2), 0, 5L));
    assertLegitUnharmed();
  }

  // ---------------------------------------------------------------- malformed streams

  @Test
  void aBatchBeforeAttachIsAFailedPrecondition() throws InterruptedException {
    Stream s = open();
    s.send(read(batch(1), 0));
    assertStatus(s.end(), Status.Code.FAILED_PRECONDITION, "attach");
    assertLegitUnharmed();
  }

  @Test
  void anEmptyRequestIsInvalid() throws InterruptedException {
    Stream s = open();
    s.send(AccessRequest.getDefaultInstance());
    assertStatus(s.end(), Status.Code.INVALID_ARGUMENT, "attach");
    assertLegitUnharmed();
  }

  @Test
  void attachingTwiceOnOneStreamIsAFailedPrecondition() throws InterruptedException {
    PowerOnResponse vm = powerOn(VmSpec.newBuilder().setName("twice").setMemoryPages(16));
    Stream s = attach(vm);
    s.sendAttach(vm.getVmId(), vm.getCredential());
    assertStatus(s.end(), Status.Code.FAILED_PRECONDITION, "already attached");
    assertLegitUnharmed();
  }

  @Test
  void aSecondStreamOnTheLegitimateVmIsRefusedAndTheFirstKeepsRunning() throws InterruptedException {
    Stream s = open();
    s.sendAttach(legit.getVmId(), legit.getCredential());
    assertStatus(s.end(), Status.Code.FAILED_PRECONDITION, "already has an attached access stream");
    assertLegitUnharmed();
  }

  @Test
  void wrongCredentialsAndUnknownVmsAreRefusedWithBoundedMessages() throws InterruptedException {
    Stream s = open();
    s.sendAttach(legit.getVmId(), "x".repeat(1_000_000));
    assertStatus(s.end(), Status.Code.PERMISSION_DENIED, "wrong credential");
    s = open();
    s.sendAttach(Integer.MAX_VALUE, legit.getCredential());
    assertStatus(s.end(), Status.Code.NOT_FOUND);
    s = open();
    s.sendAttach(-1, "");
    assertStatus(s.end(), Status.Code.NOT_FOUND);
    StatusRuntimeException e = expectRefusal(() -> machineStub.powerOff(PowerOffRequest.newBuilder()
        .setVmId(legit.getVmId()).setCredential("guess").build()));
    assertRefused(e, Status.Code.PERMISSION_DENIED);
    assertLegitUnharmed();
  }

  @Test
  void aNegativeQuantumEndIsInvalid() throws InterruptedException {
    PowerOnResponse vm = powerOn(VmSpec.newBuilder().setName("time-traveller").setMemoryPages(16));
    Stream s = attach(vm);
    s.send(AccessRequest.newBuilder().setQuantumDone(QuantumDone.newBuilder().setVmTimeNs(-1)).build());
    assertStatus(s.end(), Status.Code.INVALID_ARGUMENT, "negative");
    assertLegitUnharmed();
  }

  // ---------------------------------------------------------------- helpers

  private PowerOnResponse powerOn(VmSpec.Builder spec) {
    return machineStub.powerOn(PowerOnRequest.newBuilder().setSpec(spec).build());
  }

  private StatusRuntimeException refusedPowerOn(VmSpec.Builder spec) {
    return expectRefusal(() -> powerOn(spec));
  }

  private static StatusRuntimeException expectRefusal(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e;
    }
    return fail("the call should have been refused");
  }

  private Stream open() {
    Stream s = new Stream();
    s.requests = MachineServiceGrpc.newStub(channel).access(s);
    streams.add(s);
    return s;
  }

  private Stream attach(PowerOnResponse vm) throws InterruptedException {
    Stream s = open();
    s.sendAttach(vm.getVmId(), vm.getCredential());
    Object attached = s.next();
    assertTrue(attached instanceof AccessResponse r && r.hasAttached(), String.valueOf(attached));
    return s;
  }

  /** One access stream seen from the client: what it sends, and what comes back, in order. */
  private static final class Stream implements StreamObserver<AccessResponse> {
    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private StreamObserver<AccessRequest> requests;

    synchronized void send(AccessRequest request) {
      requests.onNext(request);
    }

    void send(AccessBatch.Builder batch) {
      send(AccessRequest.newBuilder().setBatch(batch).build());
    }

    void sendAttach(int vmId, String credential) {
      send(AccessRequest.newBuilder().setAttach(AccessAttach.newBuilder().setVmId(vmId).setCredential(credential))
          .build());
    }

    /** The next response or the error that ended the stream. */
    Object next() throws InterruptedException {
      Object o = received.poll(30, TimeUnit.SECONDS);
      assertNotNull(o, "nothing arrived within 30 s of wall time");
      return o;
    }

    AccessResponse apply(AccessBatch.Builder batch) throws InterruptedException {
      send(batch);
      Object o = next();
      if (o instanceof Throwable t) {
        fail("the batch was refused: " + Status.fromThrowable(t));
      }
      AccessResponse r = (AccessResponse) o;
      assertTrue(r.hasResult(), r.toString());
      return r;
    }

    /** The status the stream ended with. */
    Status end() throws InterruptedException {
      Object o = next();
      if (!(o instanceof Throwable t)) {
        return fail("the stream should have ended, got " + o);
      }
      return Status.fromThrowable(t);
    }

    synchronized void cancel() {
      try {
        requests.onError(Status.CANCELLED.withDescription("test over").asRuntimeException());
      } catch (RuntimeException ignored) {
        // already closed
      }
    }

    @Override
    public void onNext(AccessResponse value) {
      received.add(value);
    }

    @Override
    public void onError(Throwable t) {
      received.add(t);
    }

    @Override
    public void onCompleted() {
      received.add("completed");
    }
  }

  private static AccessBatch.Builder batch(long sequence) {
    return AccessBatch.newBuilder().setSequence(sequence);
  }

  private static AccessBatch.Builder write(AccessBatch.Builder b, int pfn, long value) {
    return b.setOps(b.getOps().concat(ops(AccessOp.ACCESS_OP_WRITE_VALUE))).setPfns(b.getPfns().concat(ints(pfn)))
        .setWriteValues(b.getWriteValues().concat(longs(value)));
  }

  private static AccessBatch.Builder read(AccessBatch.Builder b, int pfn) {
    return b.setOps(b.getOps().concat(ops(AccessOp.ACCESS_OP_READ_VALUE))).setPfns(b.getPfns().concat(ints(pfn)));
  }

  private static AccessBatch.Builder entry(AccessBatch.Builder b, int op, int asid, int vpn, int pfn) {
    return b.setOps(b.getOps().concat(ops(op))).setPfns(b.getPfns().concat(ints(pfn)))
        .setAsids(b.getAsids().concat(chars(asid))).setVpns(b.getVpns().concat(ints(vpn)));
  }

  private static ByteString ops(int... ops) {
    byte[] a = new byte[ops.length];
    for (int i = 0; i < ops.length; i++) {
      a[i] = (byte) ops[i];
    }
    return ByteString.copyFrom(a);
  }

  private static ByteString ints(int... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      b.putInt(v);
    }
    return ByteString.copyFrom(b.array());
  }

  private static ByteString longs(long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      b.putLong(v);
    }
    return ByteString.copyFrom(b.array());
  }

  private static ByteString chars(int... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * Character.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      b.putChar((char) v);
    }
    return ByteString.copyFrom(b.array());
  }
}
