package org.balloonlab.hypervisor.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.hypervisor.machine.AccessOps;
import org.balloonlab.hypervisor.machine.BatchResult;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.EventKind;
import org.balloonlab.proto.GetMachineRequest;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.SetTauRequest;
import org.balloonlab.proto.SetTauResponse;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.WatchEventsRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The operator's SetTau over the in-process transport: machine-wide, per VM, and what it refuses. */
class SetTauTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  private Machine machine;
  private ManagementServiceGrpc.ManagementServiceBlockingStub management;
  private Vm vm1;

  @BeforeEach
  void startServer() throws IOException {
    machine = grpc.register(new Machine(new MachineConfig(64, 256, dir.resolve("host.swap"), 16,
        CostModel.DEFAULT, 3)));
    String name = InProcessServerBuilder.generateName();
    grpc.register(new HypervisorServer(InProcessServerBuilder.forName(name), machine, Duration.ofHours(1)).start());
    ManagedChannel channel = grpc.register(InProcessChannelBuilder.forName(name).build());
    management = ManagementServiceGrpc.newBlockingStub(channel);
    vm1 = machine.powerOn("vm1", "linux", 32, 0, 0);
    machine.powerOn("vm2", "linux", 32, 0, 0);
  }

  private static VmSelector byName(String name) {
    return VmSelector.newBuilder().setName(name).build();
  }

  private double machineTau() {
    return management.getMachine(GetMachineRequest.getDefaultInstance()).getTau();
  }

  private List<MachineEvent> tauEvents() {
    List<MachineEvent> events = new ArrayList<>();
    management.watchEvents(WatchEventsRequest.getDefaultInstance()).forEachRemaining(e -> {
      if (e.getKind() == EventKind.EVENT_KIND_TAU_CHANGED) {
        events.add(e);
      }
    });
    return events;
  }

  @Test
  void theMachinesRateChangesForEveryVmWithoutItsOwn() {
    assertEquals(0.75, machineTau(), 1e-12, "the default");
    SetTauResponse r = management.setTau(SetTauRequest.newBuilder().setTau(0).build());
    assertEquals(0, r.getMachineTau(), 1e-12);
    assertFalse(r.hasVm());
    assertEquals(0, machineTau(), 1e-12);
    assertEquals(0, machine.vm(vm1.id()).reclamation().tau(), 1e-12);
    assertFalse(machine.vm(vm1.id()).reclamation().ownTau());
    List<MachineEvent> events = tauEvents();
    assertEquals(1, events.size());
    assertEquals(0, events.get(0).getVmId(), "machine-wide");
    assertTrue(events.get(0).getMessage().contains("tau set to 0.0 machine-wide"), events.get(0).getMessage());
  }

  @Test
  void aVmsOwnRateOutlivesAChangeOfTheMachinesUntilItInherits() {
    SetTauResponse own = management.setTau(SetTauRequest.newBuilder().setVm(byName("vm1")).setTau(0).build());
    assertEquals(0.75, own.getMachineTau(), 1e-12, "the machine's rate is unchanged");
    assertEquals(0, own.getVm().getReclamation().getTau(), 1e-12);
    assertTrue(own.getVm().getReclamation().getOwnTau());
    management.setTau(SetTauRequest.newBuilder().setTau(0.5).build());
    assertEquals(0, machine.vm(vm1.id()).reclamation().tau(), 1e-12, "vm1 keeps its own");
    assertEquals(0.5, machine.vm(vm1.id() + 1).reclamation().tau(), 1e-12, "vm2 follows the machine");
    SetTauResponse back = management.setTau(SetTauRequest.newBuilder().setVm(byName("vm1")).setInherit(true)
        .build());
    assertEquals(0.5, back.getVm().getReclamation().getTau(), 1e-12);
    assertFalse(back.getVm().getReclamation().getOwnTau());
    List<MachineEvent> events = tauEvents();
    assertEquals(3, events.size());
    assertEquals("vm1", events.get(0).getVmName());
  }

  @Test
  void theNextDecisionUsesTheNewRate() {
    // vm1 touches its memory, then idles through a sampling period: f = 0, every page an idle one.
    byte[] ops = new byte[32];
    int[] pfns = new int[32];
    long[] values = new long[32];
    for (int i = 0; i < 32; i++) {
      ops[i] = AccessOps.WRITE;
      pfns[i] = i;
      values[i] = 0xC000_0000_0000_0000L | i;
    }
    machine.applyBatch(vm1, 32, ops, pfns, values, new long[32], new BatchResult());
    machine.recordGuestView(vm1, view(0));
    machine.recordGuestView(vm1, view(30_000_000_000L));
    assertEquals(0, machine.vm(vm1.id()).reclamation().activeFraction(), 1e-12);
    machine.rebalance();
    double taxed = machine.vm(vm1.id()).reclamation().sharesPerPage();
    management.setTau(SetTauRequest.newBuilder().setVm(byName("vm1")).setTau(0).build());
    machine.rebalance();
    // rho = S / (P (f + k (1 - f))): with f = 0, k = 4 at 0.75 and 1 at 0.
    assertEquals(4 * taxed, machine.vm(vm1.id()).reclamation().sharesPerPage(), 1e-9 * taxed);
  }

  private static GuestStatus view(long simulatedNs) {
    return new GuestStatus(simulatedNs, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "test", false);
  }

  @ParameterizedTest
  @ValueSource(doubles = {-0.01, 0.995, 1.0, Double.NaN, Double.POSITIVE_INFINITY})
  void aRateOutsideZeroToPoint99IsRefused(double tau) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> management.setTau(SetTauRequest.newBuilder().setTau(tau).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("tau must be from 0 to 0.99"), e.getMessage());
    StatusRuntimeException forVm = assertThrows(StatusRuntimeException.class,
        () -> management.setTau(SetTauRequest.newBuilder().setVm(byName("vm1")).setTau(tau).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, forVm.getStatus().getCode());
    assertEquals(0.75, machineTau(), 1e-12, "nothing changed");
    assertTrue(tauEvents().isEmpty());
  }

  @Test
  void anUnknownVmAndAnInheritWithoutAVmAreRefused() {
    StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
        () -> management.setTau(SetTauRequest.newBuilder().setVm(byName("nope")).setTau(0.5).build()));
    assertEquals(Status.Code.NOT_FOUND, missing.getStatus().getCode());
    StatusRuntimeException inherit = assertThrows(StatusRuntimeException.class,
        () -> management.setTau(SetTauRequest.newBuilder().setInherit(true).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, inherit.getStatus().getCode());
  }
}
