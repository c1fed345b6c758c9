package org.balloonlab.hypervisor.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.balloonlab.hypervisor.event.EventKind;
import org.balloonlab.hypervisor.event.EventLog;
import org.balloonlab.hypervisor.machine.BatchResult;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.MachineException;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.DriverMode;
import org.balloonlab.proto.DriverModeRequest;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOffVmRequest;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmState;
import org.balloonlab.proto.WatchEventsRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The operator's PowerOffVm and WatchEvents over the in-process transport. */
class ManagementEventsTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  private Machine machine;
  private ManagementServiceGrpc.ManagementServiceBlockingStub management;
  private ManagementServiceGrpc.ManagementServiceStub async;

  @BeforeEach
  void startServer() throws IOException {
    machine = grpc.register(new Machine(new MachineConfig(64, 256, dir.resolve("host.swap"), 16,
        CostModel.DEFAULT, 3)));
    String name = InProcessServerBuilder.generateName();
    grpc.register(new HypervisorServer(InProcessServerBuilder.forName(name), machine, Duration.ofHours(1)).start());
    ManagedChannel channel = grpc.register(InProcessChannelBuilder.forName(name).build());
    management = ManagementServiceGrpc.newBlockingStub(channel);
    async = ManagementServiceGrpc.newStub(channel);
  }

  private static VmSelector byName(String name) {
    return VmSelector.newBuilder().setName(name).build();
  }

  private static void touch(Machine machine, Vm vm, int pages) {
    byte[] ops = new byte[pages];
    int[] pfns = new int[pages];
    long[] values = new long[pages];
    for (int i = 0; i < pages; i++) {
      ops[i] = org.balloonlab.hypervisor.machine.AccessOps.WRITE;
      pfns[i] = i;
      values[i] = 0xC000_0000_0000_0000L | i;
    }
    machine.applyBatch(vm, pages, ops, pfns, values, new long[pages], new BatchResult());
  }

  @Test
  void powerOffVmFreesEveryFrameAndTheGuestIsToldWhyAtItsNextAccess() {
    Vm vm = machine.powerOn("vm1", "linux", 32);
    machine.attach(vm);
    touch(machine, vm, 16);
    assertEquals(48, machine.snapshot().freeFrames());

    VmState last = management.powerOffVm(PowerOffVmRequest.newBuilder().setVm(byName("vm1")).build());
    assertEquals("vm1", last.getName());
    assertEquals(16, last.getMappedPages(), "the answer is the VM's state before it went off");
    assertEquals(64, machine.snapshot().freeFrames(), "all its frames are free");
    assertEquals(0, machine.snapshot().vms().size());

    MachineException refused = assertThrows(MachineException.class, () -> touch(machine, vm, 1));
    assertEquals(MachineException.Reason.FAILED_PRECONDITION, refused.reason());
    assertTrue(refused.getMessage().contains("powered off by the operator"), refused.getMessage());
    assertEquals(java.util.Optional.of(new MachineException.PoweredOff("vm1", "powered off by the operator")),
        refused.poweredOff(), "the refusal says structurally that the VM is off");
  }

  @Test
  void powerOffVmRefusesUnknownVmsAndMissingSelectors() {
    StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
        () -> management.powerOffVm(PowerOffVmRequest.newBuilder().setVm(byName("nope")).build()));
    assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
    assertTrue(unknown.getStatus().getDescription().contains("nope"));
    StatusRuntimeException empty = assertThrows(StatusRuntimeException.class,
        () -> management.powerOffVm(PowerOffVmRequest.getDefaultInstance()));
    assertEquals(Status.Code.INVALID_ARGUMENT, empty.getStatus().getCode());
    StatusRuntimeException byId = assertThrows(StatusRuntimeException.class, () -> management.powerOffVm(
        PowerOffVmRequest.newBuilder().setVm(VmSelector.newBuilder().setVmId(99)).build()));
    assertEquals(Status.Code.NOT_FOUND, byId.getStatus().getCode());
  }

  @Test
  void watchEventsReplaysWhatHappenedInOrderAndEnds() {
    machine.powerOn("vm1", "linux", 32);
    management.setBalloonTarget(SetBalloonTargetRequest.newBuilder().setVm(byName("vm1")).setTargetPages(8).build());
    management.setDriverMode(SetDriverModeRequest.newBuilder().setVm(byName("vm1"))
        .setMode(DriverModeRequest.newBuilder().setMode(DriverMode.DRIVER_MODE_DISABLED)).build());
    management.powerOffVm(PowerOffVmRequest.newBuilder().setVm(byName("vm1")).build());

    List<MachineEvent> events = new ArrayList<>();
    management.watchEvents(WatchEventsRequest.getDefaultInstance()).forEachRemaining(events::add);
    assertEquals(List.of("EVENT_KIND_VM_POWERED_ON", "EVENT_KIND_BALLOON_TARGET_SET",
            "EVENT_KIND_DRIVER_MODE_CHANGED", "EVENT_KIND_VM_POWERED_OFF"),
        events.stream().map(e -> e.getKind().name()).toList());
    assertEquals(List.of(1L, 2L, 3L, 4L), events.stream().map(MachineEvent::getSequence).toList());
    assertTrue(events.stream().allMatch(e -> e.getVmName().equals("vm1") && e.getWallTimeMs() > 0));
    assertTrue(events.get(3).getMessage().contains("by the operator"), events.get(3).getMessage());

    List<MachineEvent> after = new ArrayList<>();
    management.watchEvents(WatchEventsRequest.newBuilder().setAfterSequence(2).build())
        .forEachRemaining(after::add);
    assertEquals(List.of(3L, 4L), after.stream().map(MachineEvent::getSequence).toList());
  }

  @Test
  void everyKindCrossesTheWireAsItsOwnEnumValue() {
    for (EventKind kind : EventKind.values()) {
      if (kind != EventKind.TARGET_DECIDED) {
        machine.events().publish(kind, 0, "", kind.name());
      }
    }
    List<MachineEvent> events = new ArrayList<>();
    management.watchEvents(WatchEventsRequest.getDefaultInstance()).forEachRemaining(events::add);
    assertEquals(EventKind.values().length - 1, events.size());
    for (MachineEvent e : events) {
      assertEquals("EVENT_KIND_" + e.getMessage(), e.getKind().name());
    }
    assertTrue(events.stream()
        .anyMatch(e -> e.getKind() == org.balloonlab.proto.EventKind.EVENT_KIND_SHARING_PROGRESS));
  }

  /** After sequence 0 means every event still kept, even when the ring has long overwritten the first ones. */
  @Test
  void fromZeroAWatcherGetsEveryEventStillKeptOnAFullRing() {
    int extra = 10;
    for (int i = 0; i < EventLog.DEFAULT_CAPACITY + extra; i++) {
      machine.events().publish(EventKind.FREE_STATE_CHANGED, 0, "", "state " + i);
    }
    List<MachineEvent> events = new ArrayList<>();
    management.withDeadlineAfter(10, TimeUnit.SECONDS).watchEvents(WatchEventsRequest.getDefaultInstance())
        .forEachRemaining(events::add);
    assertEquals(EventLog.DEFAULT_CAPACITY, events.size());
    assertEquals(extra + 1, events.get(0).getSequence(), "from the oldest event kept");
    assertEquals(EventLog.DEFAULT_CAPACITY + extra, events.get(events.size() - 1).getSequence());
  }

  @Test
  void followingDeliversNewEventsAsTheyHappen() {
    Iterator<MachineEvent> it = management.withDeadlineAfter(10, TimeUnit.SECONDS)
        .watchEvents(WatchEventsRequest.newBuilder().setFollow(true).build());
    machine.powerOn("vm1", "linux", 32);
    MachineEvent first = it.next();
    assertEquals("vm1", first.getVmName());
    assertEquals("EVENT_KIND_VM_POWERED_ON", first.getKind().name());
    machine.powerOn("vm2", "linux", 32);
    assertEquals("vm2", it.next().getVmName());
  }

  @Test
  void aWatcherThatHangsUpIsNoLongerSubscribed() throws Exception {
    io.grpc.Context.CancellableContext context = io.grpc.Context.current().withCancellation();
    Iterator<MachineEvent> it = context.call(() -> management
        .watchEvents(WatchEventsRequest.newBuilder().setFollow(true).build()));
    machine.powerOn("vm1", "linux", 32);
    assertEquals("vm1", it.next().getVmName());
    assertEquals(1, machine.events().subscribers());
    context.cancel(null);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> machine.events().subscribers() == 0);
  }

  @Test
  void aNegativeCursorIsRefused() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> management
        .watchEvents(WatchEventsRequest.newBuilder().setAfterSequence(-1).build()).hasNext());
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
  }

  @Test
  void aWatcherThatFallsBehindTheRingIsEndedWithWhatItMissed() throws InterruptedException {
    BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    List<ClientCallStreamObserver<WatchEventsRequest>> call = new ArrayList<>();
    ClientResponseObserver<WatchEventsRequest, MachineEvent> slow = new ClientResponseObserver<>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<WatchEventsRequest> requestStream) {
        call.add(requestStream);
        requestStream.disableAutoRequestWithInitial(1);
      }

      @Override
      public void onNext(MachineEvent value) {
        received.add(value);
      }

      @Override
      public void onError(Throwable t) {
        received.add(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        received.add(Status.OK);
      }
    };
    async.watchEvents(WatchEventsRequest.newBuilder().setFollow(true).build(), slow);
    machine.events().publish(EventKind.FREE_STATE_CHANGED, 0, "", "free memory is now soft");
    Object first = received.poll(10, TimeUnit.SECONDS);
    assertTrue(first instanceof MachineEvent, String.valueOf(first));
    // The watcher asked for one event and reads no more; the ring moves on without it.
    for (int i = 0; i < EventLog.DEFAULT_CAPACITY + 10; i++) {
      machine.events().publish(EventKind.FREE_STATE_CHANGED, 0, "", "state " + i);
    }
    call.get(0).request(EventLog.DEFAULT_CAPACITY * 2);
    Object next = received.poll(10, TimeUnit.SECONDS);
    assertNotNull(next, "the watcher hears back once it reads again");
    if (!(next instanceof Status status)) {
      fail("expected the stream to end, got an event: " + next);
      return;
    }
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
    assertTrue(status.getDescription().contains("fell behind"), status.getDescription());
    assertTrue(status.getDescription().contains("watch again after sequence"), status.getDescription());
  }
}
