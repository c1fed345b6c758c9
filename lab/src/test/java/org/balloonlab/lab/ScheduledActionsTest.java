package org.balloonlab.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.balloonlab.hypervisor.grpc.HypervisorServer;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.lab.scenario.ScenarioParser;
import org.balloonlab.units.HostPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A scenario's tau and balloon-target actions as the launcher applies them, against a hypervisor on a local port. */
class ScheduledActionsTest {
  @TempDir
  Path dir;

  private Machine machine;
  private HypervisorServer server;
  private HostPort address;
  private ManagementClient management;
  private final StringWriter out = new StringWriter();

  @BeforeEach
  void serve() throws Exception {
    machine = new Machine(new MachineConfig(64, 256, dir.resolve("host.swap"), 16, CostModel.DEFAULT, 1));
    server = new HypervisorServer(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)), machine,
        Duration.ofHours(1)).start();
    address = HostPort.parse("127.0.0.1:" + server.port());
    management = new ManagementClient(address, org.balloonlab.transport.ClientSecurity.NONE);
  }

  @AfterEach
  void stop() throws InterruptedException {
    management.close();
    server.stop();
    machine.close();
  }

  private ScheduledActions schedule(String yaml) throws Exception {
    Scenario s = ScenarioParser.parse(new StringReader(yaml), "t.yaml", "t");
    return new ScheduledActions(s, Set.of("vm1", "vm2"), null, management, address,
        new LiveView(new PrintWriter(out, true), false));
  }

  @Test
  void aGuestsOwnFieldsAreAppliedAtLabTimeZeroAndTauChangesLater() throws Exception {
    Vm vm1 = machine.powerOn("vm1", "linux", 32);
    Vm vm2 = machine.powerOn("vm2", "linux", 32);
    ScheduledActions actions = schedule("""
        duration: 60s
        hypervisor: {memory: 256KiB}
        guests:
          - {name: vm1, memory: 128KiB, workload: idle:footprint=64KiB, balloon-target: 64KiB, tau: 0}
          - {name: vm2, memory: 128KiB, workload: "hotset:footprint=64KiB,schedule=idle:10s/active"}
        schedule:
          - {at: 30s, action: tau, tau: 0.5}
          - {at: 40s, action: tau, vm: vm2, tau: 0.25}
        """);
    assertEquals(0, actions.nextAt(), "what vm1's fields ask for is due at lab time 0");
    actions.applyDue(0);
    assertEquals(2, actions.applied().size());
    assertEquals(16, machine.vm(vm1.id()).balloon().targetPages(), "the target is set before any quantum runs");
    assertTrue(machine.vm(vm1.id()).reclamation().targetPinned());
    assertEquals(0, machine.vm(vm1.id()).reclamation().tau(), 1e-12);
    assertEquals(0.75, machine.vm(vm2.id()).reclamation().tau(), 1e-12, "vm2 has the machine's rate");
    assertEquals(Duration.ofSeconds(30).toNanos(), actions.nextAt());

    actions.applyDue(Duration.ofSeconds(40).toNanos());
    List<String> outcomes = actions.applied().stream().map(a -> a.action().describe() + ": " + a.outcome())
        .toList();
    assertEquals(List.of("balloon vm1 64KiB: ok: balloon target 64KiB", "tau vm1 0.0: ok: vm1's idle memory tax "
            + "rate is 0.0", "tau 0.5: ok: the machine's idle memory tax rate is 0.5",
        "tau vm2 0.25: ok: vm2's idle memory tax rate is 0.25"), outcomes);
    assertEquals(0.5, machine.snapshot().tau(), 1e-12);
    assertEquals(0, machine.vm(vm1.id()).reclamation().tau(), 1e-12, "vm1 keeps its own rate");
    assertTrue(out.toString().contains("40s: tau vm2 0.25: ok"), out.toString());
  }
}
