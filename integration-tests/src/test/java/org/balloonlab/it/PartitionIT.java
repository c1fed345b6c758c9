package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.HostPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A guest cut off from its hypervisor by the network, through a {@link TcpProxy} between them, while another guest
 * is connected directly: the cut guest ends with one line saying which hypervisor it lost and since when, the
 * hypervisor releases its VM and gets its frames back, and the other guest runs on with no violation. Both sides
 * notice through their keepalive, set here to gRPC's shortest (10 s, with a 1 s timeout), so each case ends in
 * tens of seconds.
 */
class PartitionIT {
  private static final long MACHINE_FRAMES = 64L * 256;
  private static final String KEEPALIVE = "10s,1s";
  /**
   * How long either side may take to notice, in wall time: the keepalive's 11 s, the lab clock's next boundary, and
   * room for a loaded machine. The guests' straggler grace, 30 s, is above it, so it is the keepalive that acts.
   */
  private static final Duration NOTICED_WITHIN = Duration.ofSeconds(25);
  private static final Pattern SINCE = Pattern.compile("since (\\S+) \\(its last answer; given up ([0-9.]+) s later");

  private Lab lab;
  private TcpProxy proxy;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (proxy != null) {
      proxy.close();
    }
    if (lab != null) {
      lab.close();
    }
  }

  @ParameterizedTest(name = "{0} on a hypervisor whose lab clock is {1}")
  @CsvSource({"RESET, lockstep", "BLACK_HOLE, lockstep", "BLACK_HOLE, free"})
  void aCutGuestEndsItsVmIsReleasedAndTheOtherGuestRunsOn(TcpProxy.Mode cut, String labClock) throws Exception {
    lab = new Lab("partition-" + cut.name().toLowerCase(Locale.ROOT) + "-" + labClock);
    lab.startHypervisor("--memory", "64MiB", "--keepalive", KEEPALIVE, "--lab-clock", labClock);
    String[] guest = {"--memory", "24MiB", "--workload", "uniform:footprint=16MiB", "--duration", "1h",
        "--keepalive", KEEPALIVE};
    lab.startReadyGuest("direct", guest);
    proxy = new TcpProxy(HostPort.parse(lab.address()));
    JvmProcess behind = lab.startGuestAt(proxy.address().target(), "behind", guest);
    lab.awaitReady(behind);
    await("both guests run").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          ListVmsResponse s = lab.state();
          return s.getVmsCount() == 2 && s.getVmsList().stream()
              .allMatch(v -> v.getMappedPages() > 1000 && v.getGuest().getAccesses() > 0);
        });

    Instant cutAt = Instant.now();
    proxy.mode(cut);

    await("the cut guest ends").atMost(NOTICED_WITHIN).pollInterval(Duration.ofMillis(100))
        .until(() -> !behind.isAlive());
    assertEquals(GuestAgentCommand.EXIT_HYPERVISOR_LOST, behind.process().exitValue(), "see " + lab.logDir());
    String err = Files.readString(lab.logDir().resolve("behind.err.log"));
    List<String> lost = err.lines().filter(l -> l.contains("lost its hypervisor")).toList();
    assertEquals(1, lost.size(), err);
    assertTrue(lost.get(0).startsWith("guest-agent: behind lost its hypervisor " + proxy.address().target()
        + " since "), lost.get(0));
    Matcher m = SINCE.matcher(lost.get(0));
    assertTrue(m.find(), lost.get(0));
    Instant since = Instant.parse(m.group(1));
    // Its workload talks to the hypervisor all the time, so the last answer came about when the network was cut.
    assertTrue(!since.isBefore(cutAt.minusSeconds(2)) && !since.isAfter(Instant.now()), since + " against " + cutAt);
    assertTrue(Double.parseDouble(m.group(2)) <= NOTICED_WITHIN.toSeconds(), lost.get(0));
    assertFalse(err.contains("\tat "), "no stack trace: " + err);

    await("the hypervisor releases the cut guest's VM").atMost(NOTICED_WITHIN).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.state().getVmsList().stream().noneMatch(v -> v.getName().equals("behind")));
    ListVmsResponse after = lab.state();
    assertEquals(MACHINE_FRAMES - Lab.vm(after, "direct").getMappedPages(), after.getMachine().getFreeFrames(),
        "every frame of the cut guest's VM is free again");

    long accessesThen = Lab.vm(after, "direct").getCounters().getAccesses();
    await("the other guest runs on").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> Lab.vm(lab.state(), "direct").getCounters().getAccesses() > accessesThen + 100_000);
    VmState direct = Lab.vm(lab.state(), "direct");
    assertEquals(0, direct.getGuest().getIntegrityViolations() + direct.getGuest().getIsolationViolations());
    assertTrue(lab.hypervisor().isAlive());
  }
}
