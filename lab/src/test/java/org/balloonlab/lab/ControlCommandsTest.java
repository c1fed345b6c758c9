package org.balloonlab.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.balloonlab.hypervisor.grpc.HypervisorServer;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.units.CommandLineConverters;
import org.balloonlab.units.ExitCodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The operator's verbs as a user types them, against a hypervisor served on a local port. */
class ControlCommandsTest {
  @TempDir
  Path dir;

  private Machine machine;
  private HypervisorServer server;
  private String address;
  private StringWriter out;
  private StringWriter err;

  @BeforeEach
  void serve() throws Exception {
    machine = new Machine(new MachineConfig(64, 256, dir.resolve("host.swap"), 16, CostModel.DEFAULT, 1));
    server = new HypervisorServer(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)), machine,
        Duration.ofHours(1)).start();
    address = "127.0.0.1:" + server.port();
  }

  @AfterEach
  void stop() throws InterruptedException {
    server.stop();
    machine.close();
  }

  private int run(String... args) {
    out = new StringWriter();
    err = new StringWriter();
    CommandLine cl = CommandLineConverters.register(new CommandLine(new BalloonLabCommand()));
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  @Test
  void tauChangesTheMachinesRateOrAVmsOwn() {
    machine.powerOn("vm1", "linux", 32);
    assertEquals(0, run("tau", "--hypervisor", address, "0.5"));
    assertEquals("machine: idle memory tax rate 0.5", out.toString().strip());
    assertEquals(0, run("tau", "--hypervisor", address, "0", "--vm", "vm1"));
    assertEquals("vm1: idle memory tax rate 0.0 (its own)", out.toString().strip());
    assertEquals(0, run("tau", "--hypervisor", address, "--vm", "vm1", "--inherit"));
    assertEquals("vm1: idle memory tax rate 0.5 (the machine's)", out.toString().strip());
    assertEquals(0.5, machine.snapshot().tau(), 1e-12);

    assertEquals(2, run("tau", "--hypervisor", address, "1.5"));
    assertTrue(err.toString().contains("RATE must be from 0 to 0.99, got 1.5"), err.toString());
    assertEquals(2, run("tau", "--hypervisor", address, "NaN"));
    assertTrue(err.toString().contains("RATE must be from 0 to 0.99"), err.toString());
    assertEquals(2, run("tau", "--hypervisor", address, "--inherit"));
    assertTrue(err.toString().contains("--inherit needs --vm"), err.toString());
    assertEquals(5, run("tau", "--hypervisor", address, "0.3", "--vm", "vm9"));
    assertTrue(err.toString().startsWith("tau: NOT_FOUND"), err.toString());
    assertEquals(0.5, machine.snapshot().tau(), 1e-12, "nothing refused changed anything");
  }

  /** Writes PFNs 0..pages-1, in batches of 16 (the machine's limit here). */
  private void write(org.balloonlab.hypervisor.machine.Vm vm, int pages) {
    for (int from = 0; from < pages; from += 16) {
      int n = Math.min(16, pages - from);
      int[] pfns = new int[n];
      int first = from;
      java.util.Arrays.setAll(pfns, i -> first + i);
      byte[] ops = new byte[n];
      java.util.Arrays.fill(ops, org.balloonlab.hypervisor.machine.AccessOps.WRITE);
      machine.validateBatch(vm, n, ops, pfns, n);
      machine.applyBatch(vm, n, ops, pfns, new long[n], new long[n],
          new org.balloonlab.hypervisor.machine.BatchResult());
    }
  }

  @Test
  void explainSaysWhyTheVmsTargetMoved() {
    var idle = machine.powerOn("vm1", "linux", 48, 0, 100);
    var busy = machine.powerOn("vm2", "linux", 48, 0, 300);
    assertEquals(0, run("explain", "--hypervisor", address, "vm1"));
    assertTrue(out.toString().contains("has not moved vm1's balloon target yet"), out.toString());
    write(idle, 36);
    write(busy, 26);
    machine.rebalance();
    assertEquals(0, run("explain", "--hypervisor", address, "vm1"));
    String text = out.toString();
    assertTrue(text.startsWith("At t="), text);
    assertTrue(text.contains("vm1's allocation fell from 192KiB to"), text);
    assertTrue(text.contains("free memory was "), text);
    assertTrue(text.contains("lowest shares per page"), text);
    assertTrue(text.contains("vm2"), "every VM's inputs: " + text);

    assertEquals(2, run("explain", "--hypervisor", address, "vm1", "--last", "0"));
    assertTrue(err.toString().contains("--last must be from 1 to 32, got 0"), err.toString());
    assertEquals(5, run("explain", "--hypervisor", address, "vm9"));
    assertTrue(err.toString().startsWith("explain: NOT_FOUND"), err.toString());
  }

  @Test
  void statusShowsWhatTheGuestsReported() {
    machine.powerOn("vm1", "linux", 32);
    assertEquals(0, run("status", "--hypervisor", address), err.toString());
    assertTrue(out.toString().contains("guest stats vm1        none reported"), out.toString());
  }

  @Test
  void statusShowsPageSharingWhenItIsOn() throws Exception {
    assertEquals(0, run("status", "--hypervisor", address));
    assertFalse(out.toString().contains("sharing:"), "nothing while sharing is off: " + out);
    Machine sharing = new Machine(new MachineConfig(64, 256, dir.resolve("sharing.swap"), 16, CostModel.DEFAULT, 1)
        .withSharing(org.balloonlab.hypervisor.machine.SharingSettings.ON));
    HypervisorServer other = new HypervisorServer(NettyServerBuilder.forAddress(
        new InetSocketAddress("127.0.0.1", 0)), sharing, Duration.ofHours(1)).start();
    try {
      for (String name : new String[] {"vm1", "vm2"}) {
        org.balloonlab.hypervisor.machine.Vm vm = sharing.powerOn(name, "linux", 8);
        byte[] ops = new byte[8];
        int[] pfns = new int[8];
        for (int i = 0; i < 8; i++) {
          ops[i] = org.balloonlab.hypervisor.machine.AccessOps.READ;
          pfns[i] = i;
        }
        // Eight reads of untouched pages: eight zero pages.
        sharing.applyBatch(vm, 8, ops, pfns, new long[0], new long[8],
            new org.balloonlab.hypervisor.machine.BatchResult());
      }
      sharing.scanForSharing(1_000_000_000L);
      assertEquals(0, run("status", "--hypervisor", "127.0.0.1:" + other.port()));
      String text = out.toString();
      assertTrue(text.contains("sharing: 1 shared frames for 16 pages (16 zero), saved 60KiB"), text);
      assertTrue(text.contains("  vm1: 8 shared pages, saves 28KiB"), text);
    } finally {
      other.stop();
      sharing.close();
    }
  }

  @Test
  void poweroffThenEventsTellWhatHappened() {
    machine.powerOn("vm1", "linux", 32);
    assertEquals(0, run("status", "--hypervisor", address), err.toString());
    assertTrue(out.toString().contains("vm1") && out.toString().contains("(state high)"), out.toString());
    String limits = out.toString().lines().filter(l -> l.startsWith("limits: ")).findFirst().orElse("");
    assertTrue(limits.startsWith("limits: 1 of 64 VMs, configured 128KiB of "), "status shows the quotas: " + out);
    assertTrue(limits.contains("host swap reserved 128KiB of "), limits);

    assertEquals(0, run("poweroff", "--hypervisor", address, "vm1"));
    assertTrue(out.toString().startsWith("vm1: powered off"), out.toString());
    assertEquals(ExitCodes.HYPERVISOR_REFUSED, run("poweroff", "--hypervisor", address, "vm1"));
    assertTrue(err.toString().contains("NOT_FOUND"), err.toString());

    assertEquals(0, run("events", "--hypervisor", address));
    List<String> lines = out.toString().lines().toList();
    assertEquals(2, lines.size(), out.toString());
    assertTrue(lines.get(0).contains("vm_powered_on") && lines.get(0).contains("vm1"), lines.get(0));
    assertTrue(lines.get(1).contains("vm_powered_off") && lines.get(1).contains("by the operator"), lines.get(1));

    assertEquals(0, run("events", "--hypervisor", address, "--after", "1"));
    assertEquals(1, out.toString().lines().count(), out.toString());
    assertEquals(2, run("events", "--hypervisor", address, "--after", "-1"));
  }

  @Test
  void anUnreachableHypervisorIsOneLineSayingWhatToDo() throws Exception {
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    for (String command : new String[] {"status", "events"}) {
      assertEquals(ExitCodes.HYPERVISOR_LOST, run(command, "--hypervisor", "127.0.0.1:" + port));
      assertEquals(command + ": the hypervisor at 127.0.0.1:" + port + " cannot be reached or went away "
          + "(UNAVAILABLE); is it running? Give its address with --hypervisor HOST:PORT.", err.toString().strip());
    }
  }
}
