package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.guest.cli.GuestSummary;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A lost Lock answer with the hypervisor and the guest in separate JVMs: the hypervisor applies the second Lock
 * of vm1 and holds its answer back for longer than the driver's deadline ({@code --inject delay-lock-reply}). The
 * driver retries the same request, the hypervisor answers it as applied before, and the balloon inflates on: at
 * the end the driver's size is what the hypervisor holds, nothing was reset, no page was lost, and the guest said
 * so in one line.
 */
class LostLockAnswerIT {
  private static final int MIB = 256; // pages
  private static final String RETRY_LINE = "retrying the same request";
  private Lab lab;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void aLockWhoseAnswerIsLostIsRetriedAndLandsOnce() throws Exception {
    lab = new Lab("lost-lock-answer");
    // Free running: the driver's deadline is 5 s there (2 min under the lab clock), so an 8 s hold loses the answer.
    lab.startHypervisor("--lab-clock", "free", "--policy", "manual", "--memory", "256MiB",
        "--inject", "delay-lock-reply=vm1:2:8s");
    JvmProcess guest = lab.startReadyGuest("vm1", "--memory", "64MiB", "--workload", "hotset:footprint=32MiB",
        "--duration", "1h");
    await("the footprint is touched").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.vm("vm1").getMappedPages() >= 32 * MIB);

    int target = 16 * MIB; // eight batches of 512: the second one's answer is lost
    lab.setBalloonTarget("vm1", target);
    await("the balloon meets its target").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.vm("vm1").getBalloon().getSizePages() == target);
    VmState vm = lab.vm("vm1");
    assertEquals(target, vm.getBalloon().getLockedTotal(), "every page was taken once");
    assertEquals(0, vm.getBalloon().getResets(), "the hypervisor never reset the balloon");
    assertEquals(0, vm.getCounters().getBalloonFaults(), "the guest never touched a page it gave away");
    assertEquals(0, vm.getGuest().getIntegrityViolations());
    assertEquals(0, vm.getGuest().getIsolationViolations());

    guest.stop(30, TimeUnit.SECONDS);
    String summary = guest.lineStartingWith(GuestAgentCommand.SUMMARY);
    assertNotNull(summary, "the guest printed its summary");
    assertEquals(target, GuestSummary.count(summary, "balloon_pages"), "the driver holds what the hypervisor holds");
    assertEquals(target, GuestSummary.count(summary, "balloon_pages_locked"));
    assertEquals(0, GuestSummary.count(summary, "balloon_resets"), "the driver never reset");
    assertTrue(GuestSummary.count(summary, "balloon_retries") >= 1, summary);
    assertEquals(0, GuestSummary.count(summary, "balloon_unknown_outcomes"), summary);
    assertEquals(0, GuestSummary.count(summary, "integrity_violations"));
    assertEquals(0, GuestSummary.count(summary, "isolation_violations"));

    List<String> guestLog = Files.readAllLines(lab.logDir().resolve("vm1.err.log"), StandardCharsets.UTF_8);
    assertEquals(1, guestLog.stream().filter(l -> l.contains(RETRY_LINE)).count(),
        "one line about the retry: " + guestLog);
    assertEquals(1, guestLog.stream().filter(l -> l.contains("retr")).count(), "and no other: " + guestLog);
    assertTrue(guestLog.stream().noneMatch(l -> l.contains("reset")), "no reset in the guest log: " + guestLog);
    String hypervisorLog = Files.readString(lab.logDir().resolve("hypervisor.err.log"), StandardCharsets.UTF_8);
    assertTrue(hypervisorLog.contains("answered as applied before"), hypervisorLog);
  }
}
