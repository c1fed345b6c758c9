package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.proto.ListVmsResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A guest that dies or misbehaves must not take the machine, or the other guests, with it. */
class GuestFailureIT {
  private static final long MACHINE_FRAMES = 64L * 256;
  private Lab lab;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void killedGuestReleasesEveryFrameAndOthersKeepRunning() throws Exception {
    lab = new Lab("guest-killed");
    lab.startHypervisor("--memory", "64MiB");
    JvmProcess doomed = lab.startReadyGuest("doomed", "--memory", "48MiB", "--workload", "uniform:footprint=40MiB",
        "--duration", "1h");
    lab.startReadyGuest("survivor", "--memory", "48MiB", "--workload", "uniform:footprint=40MiB",
        "--duration", "1h");
    await("both guests hold frames").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          ListVmsResponse s = lab.state();
          return s.getVmsCount() == 2 && s.getVmsList().stream().allMatch(v -> v.getMappedPages() > 1000);
        });

    doomed.process().destroyForcibly();
    assertTrue(doomed.process().waitFor(10, TimeUnit.SECONDS));

    await("the killed guest's VM is released").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
        .until(() -> lab.state().getVmsList().stream().noneMatch(v -> v.getName().equals("doomed")));
    ListVmsResponse after = lab.state();
    long survivorMapped = Lab.vm(after, "survivor").getMappedPages();
    assertEquals(MACHINE_FRAMES - survivorMapped, after.getMachine().getFreeFrames(),
        "every frame the killed guest held is free again");
    assertEquals(1, after.getMachine().getVmsReleased());

    long accessesThen = Lab.vm(after, "survivor").getCounters().getAccesses();
    await("the survivor keeps running").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
        .until(() -> Lab.vm(lab.state(), "survivor").getCounters().getAccesses() > accessesThen + 100_000);
    assertTrue(lab.hypervisor().isAlive());
    assertEquals(0, Lab.vm(lab.state(), "survivor").getGuest().getIntegrityViolations());
  }

  @Test
  void secondGuestWithTheSameNameIsRefusedAndChangesNothing() throws Exception {
    lab = new Lab("duplicate-name");
    lab.startHypervisor("--memory", "64MiB");
    lab.startReadyGuest("twin", "--memory", "16MiB", "--workload", "idle:footprint=8MiB");
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> Lab.vm(lab.state(), "twin").getMappedPages() >= 2048);
    ListVmsResponse before = lab.state();

    JvmProcess second = lab.startGuest("twin", "--memory", "16MiB", "--workload", "idle:footprint=8MiB");
    assertTrue(second.process().waitFor(30, TimeUnit.SECONDS));
    assertEquals(GuestAgentCommand.EXIT_HYPERVISOR, second.process().exitValue());
    String err = Files.readString(lab.logDir().resolve("twin.err.log"));
    assertTrue(err.contains("ALREADY_EXISTS") && err.contains("twin"), err);

    ListVmsResponse after = lab.state();
    assertEquals(1, after.getVmsCount());
    assertEquals(before.getVmsList().get(0).getVmId(), after.getVmsList().get(0).getVmId());
    assertEquals(before.getMachine().getConfiguredPages(), after.getMachine().getConfiguredPages());
    assertFalse(after.getVmsList().get(0).getName().isEmpty());
  }

  @Test
  void badCommandLinesAreRefusedWithAClearError() throws Exception {
    lab = new Lab("bad-command-lines");
    JvmProcess negative = lab.startHypervisorProcessOnly("--memory", "-1GiB");
    assertTrue(negative.process().waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, negative.process().exitValue());
    String err = Files.readString(lab.logDir().resolve("hypervisor.err.log"));
    assertTrue(err.contains("--memory") && err.contains("negative"), err);
  }
}
