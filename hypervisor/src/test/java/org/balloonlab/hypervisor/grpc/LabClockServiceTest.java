package org.balloonlab.hypervisor.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.balloonlab.hypervisor.clock.ClockSettings;
import org.balloonlab.hypervisor.clock.LabClock;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.ReclamationOnLabClock;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.AccessAttach;
import org.balloonlab.proto.AccessBatch;
import org.balloonlab.proto.AccessOp;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
import org.balloonlab.proto.GetMachineRequest;
import org.balloonlab.proto.HoldClockReply;
import org.balloonlab.proto.HoldClockRequest;
import org.balloonlab.proto.LabClockState;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.QuantumDone;
import org.balloonlab.proto.QuantumGrant;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.SetTauRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmSpec;
import org.balloonlab.proto.WatchEventsRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The lab clock's protocol over the in-process transport: grants, quantum ends, holds, operators, stragglers. */
class LabClockServiceTest {
  private static final long Q = 1_000_000;

  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  private ManagedChannel channel;
  private MachineServiceGrpc.MachineServiceStub machineStub;
  private ManagementServiceGrpc.ManagementServiceBlockingStub management;

  private void start(long graceNanos) throws Exception {
    LabClock[] clock = new LabClock[1];
    Machine machine = grpc.register(new Machine(new MachineConfig(64, 256, dir.resolve("host.swap"), 16,
        CostModel.DEFAULT, 3), org.balloonlab.hypervisor.mmu.TlbConfig.DEFAULT, () -> clock[0].labTimeNs()));
    machine.events().stampLabTimeFrom(() -> clock[0].labTimeNs());
    clock[0] = grpc.register(new LabClock(new ClockSettings(Q, 0, graceNanos),
        new ReclamationOnLabClock(machine, 10 * Q)));
    String name = InProcessServerBuilder.generateName();
    grpc.register(new HypervisorServer(InProcessServerBuilder.forName(name), machine, Duration.ofHours(1),
        clock[0]).start());
    clock[0].start();
    channel = grpc.register(InProcessChannelBuilder.forName(name).build());
    machineStub = MachineServiceGrpc.newStub(channel);
    management = ManagementServiceGrpc.newBlockingStub(channel);
  }

  /** A guest that speaks the protocol by hand. */
  private final class Guest implements StreamObserver<AccessResponse> {
    final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    final PowerOnResponse vm;
    StreamObserver<AccessRequest> stream;

    Guest(String name) {
      vm = MachineServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .powerOn(PowerOnRequest.newBuilder().setSpec(VmSpec.newBuilder().setName(name).setMemoryPages(16)).build());
    }

    Guest attach() throws InterruptedException {
      stream = machineStub.access(this);
      stream.onNext(AccessRequest.newBuilder().setAttach(AccessAttach.newBuilder().setVmId(vm.getVmId())
          .setCredential(vm.getCredential())).build());
      AccessResponse attached = (AccessResponse) next();
      assertTrue(attached.hasAttached());
      return this;
    }

    Object next() throws InterruptedException {
      Object o = received.poll(10, TimeUnit.SECONDS);
      assertNotNull(o, "nothing arrived");
      return o;
    }

    QuantumGrant grant() throws InterruptedException {
      AccessResponse r = (AccessResponse) next();
      assertTrue(r.hasGrant(), r.toString());
      return r.getGrant();
    }

    void write(long sequence, int pfn, long value) {
      byte[] pfns = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(pfn).array();
      byte[] values = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
      stream.onNext(AccessRequest.newBuilder().setBatch(AccessBatch.newBuilder().setSequence(sequence)
          .setOps(ByteString.copyFrom(new byte[] {(byte) AccessOp.ACCESS_OP_WRITE_VALUE}))
          .setPfns(ByteString.copyFrom(pfns)).setWriteValues(ByteString.copyFrom(values))).build());
    }

    void done(QuantumGrant g) {
      stream.onNext(AccessRequest.newBuilder().setQuantumDone(QuantumDone.newBuilder().setQuantum(g.getQuantum())
          .setVmTimeNs(g.getEndNs())).build());
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

  /** The launcher's side of HoldClock. */
  private final class Holder implements StreamObserver<HoldClockReply> {
    final BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
    final StreamObserver<HoldClockRequest> requests = ManagementServiceGrpc.newStub(channel).holdClock(this);

    long runTo(long ns) throws InterruptedException {
      requests.onNext(HoldClockRequest.newBuilder().setUntilNs(ns).build());
      Object o = replies.poll(10, TimeUnit.SECONDS);
      assertTrue(o instanceof HoldClockReply, String.valueOf(o));
      return ((HoldClockReply) o).getLabTimeNs();
    }

    @Override
    public void onNext(HoldClockReply value) {
      replies.add(value);
    }

    @Override
    public void onError(Throwable t) {
      replies.add(t);
    }

    @Override
    public void onCompleted() {
      replies.add("completed");
    }
  }

  private LabClockState clock() {
    return management.getMachine(GetMachineRequest.getDefaultInstance()).getClock();
  }

  @Test
  void aVmRunsQuantumByQuantumAndTheClockAdvancesWhenItEndsEach() throws Exception {
    start(TimeUnit.SECONDS.toNanos(30));
    Guest g = new Guest("vm1");
    assertTrue(g.vm.getLabClock().getLockstep());
    assertEquals(Q, g.vm.getLabClock().getQuantumNs());
    g.attach();
    QuantumGrant first = g.grant();
    assertEquals(0, first.getStartNs());
    assertEquals(Q, first.getEndNs());
    g.write(1, 3, 42);
    AccessResponse result = (AccessResponse) g.next();
    assertTrue(result.hasResult(), result.toString());
    assertEquals(1, result.getResult().getSequence());
    g.done(first);
    QuantumGrant second = g.grant();
    assertEquals(first.getQuantum() + 1, second.getQuantum());
    assertEquals(Q, second.getStartNs());
    assertEquals(Q, clock().getLabTimeNs());
    assertTrue(clock().getReproducible());
    assertEquals(1, clock().getParticipants());
  }

  @Test
  void aHolderStopsTheClockAndAnOperatorsOrderLandsAtThatLabTime() throws Exception {
    start(TimeUnit.SECONDS.toNanos(30));
    Holder holder = new Holder();
    assertEquals(0, holder.runTo(0));
    Guest g = new Guest("vm1").attach();
    holder.requests.onNext(HoldClockRequest.newBuilder().setUntilNs(3 * Q).build());
    QuantumGrant q = g.grant();
    for (int i = 0; i < 3; i++) {
      g.done(q);
      if (i < 2) {
        q = g.grant();
      }
    }
    Object reply = holder.replies.poll(10, TimeUnit.SECONDS);
    assertTrue(reply instanceof HoldClockReply, String.valueOf(reply));
    assertEquals(3 * Q, ((HoldClockReply) reply).getLabTimeNs());
    management.setBalloonTarget(SetBalloonTargetRequest.newBuilder()
        .setVm(VmSelector.newBuilder().setName("vm1")).setTargetPages(4).build());
    Iterator<MachineEvent> events = management.watchEvents(WatchEventsRequest.getDefaultInstance());
    MachineEvent targetSet = null;
    while (events.hasNext()) {
      MachineEvent e = events.next();
      if (e.getKind() == org.balloonlab.proto.EventKind.EVENT_KIND_BALLOON_TARGET_SET) {
        targetSet = e;
      }
    }
    assertNotNull(targetSet);
    assertEquals(3 * Q, targetSet.getLabTimeNs());
    management.setTau(SetTauRequest.newBuilder().setTau(0.5).build());
    MachineEvent tauChanged = null;
    for (Iterator<MachineEvent> it = management.watchEvents(WatchEventsRequest.getDefaultInstance()); it.hasNext(); ) {
      MachineEvent e = it.next();
      if (e.getKind() == org.balloonlab.proto.EventKind.EVENT_KIND_TAU_CHANGED) {
        tauChanged = e;
      }
    }
    assertNotNull(tauChanged, "a change of tau is an event");
    assertEquals(3 * Q, tauChanged.getLabTimeNs(), "and lands at the lab time the clock is held at");
    assertTrue(clock().getReproducible(), "an order given while the clock is held keeps the run reproducible");
    assertEquals(3 * Q, clock().getHeldAtNs());
    QuantumGrant afterHold = runPastHold(holder, g);
    assertTrue(afterHold.getDoorbell(), "the new target rings the VM's doorbell in its next grant");
  }

  @Test
  void aVmPoweredOffByTheOperatorWhileItWaitsForAGrantIsToldAtOnce() throws Exception {
    start(TimeUnit.SECONDS.toNanos(30));
    Holder holder = new Holder();
    assertEquals(0, holder.runTo(0));
    Guest g = new Guest("vm1").attach();
    // The clock is held: the guest waits for its first grant, which would never come for a VM that is off.
    management.powerOffVm(org.balloonlab.proto.PowerOffVmRequest.newBuilder()
        .setVm(VmSelector.newBuilder().setName("vm1")).build());
    Object end = g.next();
    assertTrue(end instanceof io.grpc.StatusRuntimeException, "the stream ends with a status, not " + end);
    io.grpc.StatusRuntimeException e = (io.grpc.StatusRuntimeException) end;
    assertEquals(io.grpc.Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.toString());
    com.google.rpc.Status detail = io.grpc.protobuf.StatusProto.fromThrowable(e);
    assertNotNull(detail);
    assertTrue(detail.getDetailsList().stream().anyMatch(a -> a.toString().contains(StatusMapping.VM_POWERED_OFF)),
        "the detail a guest recognises a power-off by: " + detail);
  }

  private QuantumGrant runPastHold(Holder holder, Guest g) throws InterruptedException {
    holder.requests.onNext(HoldClockRequest.newBuilder().setUntilNs(10 * Q).build());
    return g.grant();
  }

  @Test
  void aVmThatStopsAnsweringIsPoweredOffAfterTheGraceAndTheRunIsNotReproducible() throws Exception {
    start(TimeUnit.MILLISECONDS.toNanos(300));
    Holder holder = new Holder();
    assertEquals(0, holder.runTo(0));
    Guest live = new Guest("live").attach();
    Guest silent = new Guest("silent").attach();
    holder.requests.onNext(HoldClockRequest.newBuilder().setUntilNs(1000 * Q).build());
    QuantumGrant q = live.grant();
    silent.grant();
    live.done(q);
    Object end = silent.next();
    assertTrue(end instanceof Throwable, String.valueOf(end));
    assertTrue(((Throwable) end).getMessage().contains("dropped from the lab clock"), ((Throwable) end).getMessage());
    QuantumGrant next = live.grant();
    assertEquals(q.getQuantum() + 1, next.getQuantum(), "the lab goes on without it");
    LabClockState state = clock();
    assertFalse(state.getReproducible());
    assertTrue(state.getNotReproducibleBecause(0).contains("silent") || state.getNotReproducibleBecause(0)
        .contains("VM 2"), state.toString());
    assertEquals(1, management.listVms(org.balloonlab.proto.ListVmsRequest.getDefaultInstance()).getVmsCount());
  }
}
