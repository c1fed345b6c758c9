package org.balloonlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.balloonlab.guest.grpc.FakeLockstepMachine;
import org.balloonlab.hypervisor.grpc.HypervisorServer;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.QuantumDone;
import org.balloonlab.units.ExitCodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The guest agent's command line: help, refusals that come before any connection, and one real run. */
class GuestAgentCommandTest {
  /** Nothing listens there: were validation to let a bad command line through, it would fail fast, not hang. */
  static final String NOWHERE = "127.0.0.1:1";

  @TempDir
  Path dir;

  record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    CommandLine cl = GuestAgentCommand.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  private static String[] withDefaults(String... args) {
    List<String> all = new ArrayList<>(List.of("--hypervisor", NOWHERE));
    all.addAll(Arrays.asList(args));
    return all.toArray(String[]::new);
  }

  @Test
  void helpExitsZeroAndDescribesTheOptions() {
    Result r = run("--help");
    assertEquals(0, r.code());
    for (String option : List.of("--name", "--memory", "--workload", "--processes", "--swap", "--batch",
        "--window", "--hypervisor", "--report-every", "--os-kind", "--os-image", "--boot-metadata")) {
      assertTrue(r.out().contains(option), "help mentions " + option);
    }
    assertTrue(r.out().contains("Exit codes"), r.out());
  }

  @Test
  void versionExitsZero() {
    Result r = run("--version");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("BalloonLab"), r.out());
  }

  @ParameterizedTest(name = "{0} -> names {1}")
  @CsvSource(delimiter = '|', value = {
      "--name vm1 --memory -1                                      | --memory",
      "--name vm1 --memory abc                                     | --memory",
      "--name vm1 --memory 5000                                    | --memory",
      "--name vm1 --memory 0                                       | --memory",
      "--name vm1 --memory 2TiB                                    | --memory",
      "--name vm1 --workload bogus                                 | --workload",
      "--name vm1 --workload uniform:footprint=xyz                 | --workload",
      "--name vm1 --workload uniform:footprint=1MiB,writes=2       | writes",
      "--name vm1 --processes 0                                    | --processes",
      "--name vm1 --processes 257                                  | --processes",
      "--name vm1 --processes many                                 | --processes",
      "--name vm1 --batch 0                                        | --batch",
      "--name vm1 --window 0                                       | --window",
      "--name vm1 --slice 0                                        | --slice",
      "--name vm1 --accesses -1                                    | --accesses",
      "--name vm1 --duration 0s                                    | --duration",
      "--name vm1 --duration soon                                  | --duration",
      "--name vm1 --report-every 0s                                | --report-every",
      "--name vm1 --report-every often                             | --report-every",
      "--name vm1 --swap 0                                         | --swap",
      "--name vm1 --swap 1000                                      | --swap",
      "--name vm1 --hypervisor nowhere                             | --hypervisor",
      "--memory 1MiB                                               | --name",
      "--name vm1 --translation paging                             | --translation",
      "--name vm1 --frobnicate                                     | --frobnicate",
      "--name vm1 --memory 1MiB --min 2MiB                         | --min",
      "--name vm1 --min lots                                       | --min",
      "--name vm1 --min 5000                                       | --min",
      "--name vm1 --shares -1                                      | --shares",
      "--name vm1 --shares many                                    | --shares",
      "--name vm1 --workload idle:footprint=1MiB --workload bad    | --workload bad",
      "--name vm1 --os-kind a/b                                    | --os-kind",
      "--name vm1 --boot-metadata 0.3                              | --boot-metadata",
      "--name vm1 --boot-metadata -1                               | --boot-metadata",
      "--name vm1 --memory 64MiB --os-image 40MiB                  | --os-image",
      "--name vm1 --os-image 5000                                  | --os-image",
      "--name vm1 --workload files:footprint=1MiB                  | files=SIZE",
      "--name vm1 --workload uniform:footprint=1MiB,data=64KiB     | data-set",
  })
  void invalidArgumentsExitTwoNamingTheOption(String line, String named) {
    Result r = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> run(withDefaults(line.split(" "))));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains(named), "'" + r.err() + "' should name " + named);
    assertTrue(r.out().isEmpty(), "nothing printed on stdout, the VM never started: " + r.out());
  }

  @Test
  void aWorkloadLargerThanMemoryAndSwapIsRefused() {
    Result r = run(withDefaults("--name", "vm1", "--memory", "1MiB", "--swap", "1MiB",
        "--workload", "uniform:footprint=4MiB"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--swap"), r.err());
  }

  @Test
  void everyWorkloadCountsTowardTheFootprint() {
    Result r = run(withDefaults("--name", "vm1", "--memory", "1MiB", "--swap", "2MiB",
        "--workload", "uniform:footprint=2MiB", "--workload", "idle:footprint=2MiB"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("4MiB"), r.err());
  }

  @Test
  void processesMultiplyTheFootprint() {
    Result r = run(withDefaults("--name", "vm1", "--memory", "1MiB", "--swap", "2MiB",
        "--workload", "uniform:footprint=1MiB", "--processes", "4"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--swap"), r.err());
  }

  @Test
  void anUnreachableHypervisorIsLost() {
    Result r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> run(withDefaults("--name", "vm1",
        "--memory", "1MiB", "--workload", "uniform:footprint=1MiB,accesses=10", "--status-interval", "0s",
        "--swap-file", dir.resolve("g.swap").toString())));
    assertEquals(ExitCodes.HYPERVISOR_LOST, r.code(), r.err());
    assertTrue(r.err().contains("cannot reach the hypervisor at " + NOWHERE + " to power on vm1"), r.err());
  }

  @Test
  void onTheLabClockTheGuestRunsItsDurationInSimulatedTimeReportsInItsQuantaAndLeaves() throws Exception {
    long ms = 1_000_000;
    FakeLockstepMachine machine = new FakeLockstepMachine(0, 10 * ms, 1_000);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(machine).build()
        .start();
    try {
      Result r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> run("--hypervisor",
          "127.0.0.1:" + server.getPort(), "--name", "vm1", "--memory", "1MiB",
          "--workload", "hotset:footprint=512KiB,rate=100000", "--duration", "50ms", "--report-every", "20ms",
          "--balloon", "uninstalled", "--status-interval", "0s", "--swap-file", dir.resolve("g.swap").toString()));

      assertEquals(0, r.code(), r.err() + r.out());
      assertEquals(List.of(), machine.violations());
      List<QuantumDone> dones = machine.dones();
      assertEquals(5, dones.size(), "50 ms of simulated time in quanta of 10 ms");
      List<Long> reported = new ArrayList<>();
      for (QuantumDone d : dones) {
        if (d.hasGuestReport()) {
          reported.add(d.getQuantum());
          assertEquals(d.getVmTimeNs(), d.getGuestReport().getSimulatedNs(), "joined at 0: VM time is its own");
        }
      }
      assertEquals(List.of(1L, 2L, 4L, 5L), reported, "due at 0, 20 and 40 ms of simulated time, and the last");
      QuantumDone last = dones.get(4);
      assertTrue(last.getLeaving());
      assertEquals(50 * ms, last.getVmTimeNs(), "the duration ends the run on simulated time");
      assertTrue(last.getGuestReport().getWorkloadDone());
      assertEquals(5_000, last.getGuestReport().getAccesses(), "100 000 accesses a simulated second for 50 ms");
      assertTrue(machine.batchesAfterLeaving() > 0, "the audit ran after leaving the clock");
      assertTrue(machine.poweredOff());
      assertTrue(r.out().contains("simulated_ns=" + 50 * ms), r.out());
      assertTrue(r.out().contains("integrity_violations=0 isolation_violations=0"), r.out());
    } finally {
      server.shutdownNow().awaitTermination();
    }
  }

  @Test
  void aLostHypervisorEndsTheGuestWithOneLineSayingWhichAndSinceWhenAndExitSix() throws Exception {
    long ms = 1_000_000;
    FakeLockstepMachine machine = new FakeLockstepMachine(0, 10 * ms, 1_000);
    machine.loseConnectionAfter(3);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(machine).build()
        .start();
    try {
      long before = System.currentTimeMillis();
      Result r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> run("--hypervisor",
          "127.0.0.1:" + server.getPort(), "--name", "vm1", "--memory", "1MiB",
          "--workload", "hotset:footprint=512KiB,rate=100000", "--duration", "1s",
          "--balloon", "uninstalled", "--status-interval", "0s", "--swap-file", dir.resolve("g.swap").toString()));

      assertEquals(GuestAgentCommand.EXIT_HYPERVISOR_LOST, r.code(), r.err() + r.out());
      List<String> lines = r.err().lines().toList();
      assertEquals(1, lines.size(), r.err());
      Matcher m = Pattern.compile("^guest-agent: vm1 lost its hypervisor 127\\.0\\.0\\.1:" + server.getPort()
          + " since (\\S+) \\(its last answer; given up [0-9.]+ s later: UNAVAILABLE .*connection lost in the "
          + "test\\)$").matcher(lines.get(0));
      assertTrue(m.matches(), lines.get(0));
      long since = Instant.parse(m.group(1)).toEpochMilli();
      assertTrue(since >= before - 1 && since <= System.currentTimeMillis(), m.group(1));
      assertEquals(3, machine.dones().size(), "three quanta ran before the connection was lost");
      assertFalse(machine.poweredOff(), "nothing to power off through a connection that is gone");
      assertTrue(r.out().contains(GuestAgentCommand.SUMMARY + "name=vm1"), r.out());
    } finally {
      server.shutdownNow().awaitTermination();
    }
  }

  @Test
  void aHypervisorLostBeforeTheAttachIsAnsweredIsOneLineToo() throws Exception {
    FakeLockstepMachine machine = new FakeLockstepMachine(0, 10_000_000, 1_000);
    machine.loseConnectionAfter(0);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(machine).build()
        .start();
    try {
      Result r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> run("--hypervisor",
          "127.0.0.1:" + server.getPort(), "--name", "vm1", "--memory", "1MiB", "--workload", "idle:footprint=64KiB",
          "--balloon", "uninstalled", "--status-interval", "0s", "--swap-file", dir.resolve("g.swap").toString()));

      assertEquals(GuestAgentCommand.EXIT_HYPERVISOR_LOST, r.code(), r.err() + r.out());
      List<String> lines = r.err().lines().toList();
      assertEquals(1, lines.size(), r.err());
      assertTrue(lines.get(0).startsWith("guest-agent: vm1 lost its hypervisor 127.0.0.1:" + server.getPort()
          + " since "), lines.get(0));
    } finally {
      server.shutdownNow().awaitTermination();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"9s", "10s,0s", "10s,20s", "fast"})
  void aKeepaliveGrpcWouldNotHonourIsRefused(String keepalive) {
    Result r = run(withDefaults("--name", "vm1", "--keepalive", keepalive));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--keepalive") && !r.err().contains("Unknown option"), r.err());
  }

  @Test
  void aRunAgainstARealHypervisorEndsCleanWithASummary() throws Exception {
    Machine machine = new Machine(new MachineConfig(128, 4_096, dir.resolve("host.swap"), 4_096,
        CostModel.DEFAULT, 1));
    HypervisorServer hypervisor = new HypervisorServer(
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)), machine, Duration.ofHours(1)).start();
    try {
      Path swap = dir.resolve("guest.swap");
      Result r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> run("--hypervisor",
          "127.0.0.1:" + hypervisor.port(), "--name", "vm1", "--memory", "1MiB",
          "--workload", "hotset:footprint=2MiB,accesses=20000", "--batch", "128", "--window", "2",
          "--status-interval", "0s", "--swap-file", swap.toString()));
      assertEquals(0, r.code(), r.err() + r.out());
      assertTrue(r.out().contains(GuestAgentCommand.READY + "vm_id=1 name=vm1"), r.out());
      assertTrue(r.out().contains(GuestAgentCommand.SUMMARY + "name=vm1"), r.out());
      assertTrue(r.out().contains("accesses=20000"), r.out());
      assertTrue(r.out().contains("integrity_violations=0 isolation_violations=0"), r.out());
      assertTrue(r.out().contains("double_paging="), r.out());
      assertTrue(machine.snapshot().vms().isEmpty(), "the VM was powered off");
      assertTrue(!Files.exists(swap), "the guest swap file is removed");
    } finally {
      hypervisor.stop();
      machine.close();
    }
  }
}
