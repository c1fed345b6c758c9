package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.lab.LabRun;
import org.balloonlab.units.ExitCodes;
import org.balloonlab.units.HostPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The launcher owns its children: killed by SIGKILL, it leaves no hypervisor or guest behind (they watch the pipe
 * it holds on their standard input); interrupted during start-up, it still writes the report of what ran and says
 * where; and a guest whose hypervisor is killed under it says so in one line and exits with its documented code.
 */
class LauncherLifecycleIT {
  private static final String SLOW_LAB = """
      # A long run at pace 1x: lab time runs no faster than the wall clock, so it is still running when stopped.
      duration: 600s
      hypervisor: {memory: 64MiB, pace: 1x}
      guests:
        - {name: vm1, memory: 48MiB, workload: "hotset:footprint=16MiB,rate=100000"}
        - {name: vm2, memory: 48MiB, workload: "uniform:footprint=16MiB,rate=100000"}
      """;

  private LabRuns runs;
  private Lab lab;

  @BeforeEach
  void setUp() throws IOException {
    runs = new LabRuns(Path.of("target", "it-lifecycle"));
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    runs.close();
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void aLauncherKilledBySigkillTakesItsHypervisorAndGuestsWithIt() throws Exception {
    Path runDir = runs.work().resolve("run-sigkill");
    JvmProcess launcher = runs.start("sigkill", "run", runs.scenario("sigkill", SLOW_LAB).toString(),
        "--run-dir", runDir.toString(), "--plain");
    runs.awaitChildren(launcher, 3);
    await("the lab runs").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> launcher.lines().stream().anyMatch(l -> l.contains("machine: free")) || !launcher.isAlive());
    assertTrue(launcher.isAlive(), "the run is still going; see " + runDir);
    List<ProcessHandle> children = launcher.process().descendants().toList();
    HostPort address = HostPort.parse(Files.readString(runDir.resolve("hypervisor.port")).trim());

    launcher.process().destroyForcibly(); // SIGKILL, to the launcher alone: no hook of its runs
    assertTrue(launcher.process().waitFor(10, TimeUnit.SECONDS));

    await("the hypervisor and guests exit").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
    runs.assertNothingLeft();
    assertThrows(ConnectException.class, () -> new Socket(address.host(), address.port()).close(),
        "nothing listens on the hypervisor's port any more");
    for (String process : List.of("hypervisor", "vm1", "vm2")) {
      String err = Files.readString(runDir.resolve(process + ".err.log"));
      assertTrue(err.contains("the launcher that started it went away"), process + ": " + err);
      assertFalse(err.contains("\tat "), process + " stopped without a stack trace: " + err);
    }
  }

  @Test
  void ctrlCWhileTheHypervisorStartsWritesTheReportAndSaysWhere() throws Exception {
    Path runDir = runs.work().resolve("run-startup");
    JvmProcess launcher = runs.start("startup", "run", runs.scenario("startup", SLOW_LAB).toString(),
        "--run-dir", runDir.toString(), "--plain");
    // As soon as the launcher has started its hypervisor's JVM, which takes seconds to serve.
    runs.awaitChildren(launcher, 1);
    assertTrue(launcher.lines().stream().noneMatch(l -> l.contains("listening on")), "still starting up");
    Process kill = new ProcessBuilder("kill", "-INT", Long.toString(launcher.pid())).inheritIO().start();
    assertEquals(0, kill.waitFor());

    assertEquals(ExitCodes.INTERRUPTED, runs.awaitEnd(launcher, Duration.ofSeconds(60)));
    runs.assertNothingLeft();
    List<String> where = launcher.lines().stream().filter(l -> l.startsWith(LabRun.REPORT)).toList();
    assertEquals(List.of(LabRun.REPORT + runDir), where, "one line says where the report is");
    JsonNode report = LabRuns.report(runDir);
    assertEquals("interrupted (Ctrl-C) during start-up", report.path("run").path("stopped_by").asText());
    assertTrue(Files.exists(runDir.resolve("hypervisor.log")), "the hypervisor's log is kept");
    String err = Files.readString(runs.work().resolve("logs-startup").resolve("launcher-startup.err.log"));
    assertFalse(err.contains("\tat "), "no stack trace: " + err);
  }

  @Test
  void aGuestWhoseHypervisorIsKilledSaysSoInOneLine() throws Exception {
    lab = new Lab("hypervisor-killed");
    lab.startHypervisor("--memory", "64MiB");
    JvmProcess guest = lab.startReadyGuest("orphan", "--memory", "32MiB", "--workload", "uniform:footprint=16MiB",
        "--duration", "1h");
    await("the guest runs").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.vm("orphan").getCounters().getAccesses() > 10_000);

    lab.hypervisor().process().destroyForcibly();
    await("the guest exits").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> !guest.isAlive());

    assertEquals(ExitCodes.HYPERVISOR_LOST, guest.process().exitValue());
    String err = Files.readString(lab.logDir().resolve("orphan.err.log"));
    assertEquals(1, err.lines().filter(l -> l.contains("orphan lost its hypervisor")).count(), err);
    assertFalse(err.contains("\tat "), "no stack trace: " + err);
  }
}
