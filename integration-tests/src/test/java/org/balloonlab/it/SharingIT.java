package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.lab.BalloonLabCommand;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineSharingState;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Page sharing with guests in their own JVMs: three guests whose pages start zero-filled and are written while
 * the scanner shares them, so copy-on-write breaks happen under the guests' concurrent writes. Sharing must save
 * frames, and no read may ever see another VM's write or a stale value.
 */
class SharingIT {
  private static final long MACHINE_FRAMES = 96L * 256; // 96MiB
  private Lab lab;
  private final List<JvmProcess> commands = new ArrayList<>();

  @AfterEach
  void tearDown() throws InterruptedException {
    for (JvmProcess p : commands) {
      p.stop(5, TimeUnit.SECONDS);
    }
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void zeroPagesAreSharedAndCopyOnWriteKeepsEveryVmsDataPrivate() throws Exception {
    lab = new Lab("sharing");
    lab.startHypervisor("--policy", "manual", "--memory", "96MiB", "--page-sharing", "--share-scan-rate", "20000",
        "--share-scan-max", "100000");
    List<JvmProcess> guests = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      // An idle process reads its 8 MiB once: zero pages for good. A uniform one writes one access in a thousand,
      // so its pages stay the zeroes its kernel filled them with long enough to be shared, then are written:
      // copy-on-write breaks while the other guests read and write their own copies of the same zero frame.
      guests.add(lab.startReadyGuest("vm" + i, "--memory", "24MiB", "--workload", "idle:footprint=8MiB,writes=0",
          "--workload", "uniform:footprint=12MiB,writes=0.001", "--seed", "" + (21 + i), "--duration", "1h"));
    }
    List<String> errors = new ArrayList<>();
    // A poll that times out on a loaded host is tried again; the guests' own audits are the verdict.
    await("shared frames, saved frames and copy-on-write breaks").atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(250)).ignoreExceptionsInstanceOf(io.grpc.StatusRuntimeException.class)
        .until(() -> {
          ListVmsResponse state = lab.state();
          check(state, errors);
          MachineSharingState s = state.getMachine().getSharing();
          return s.getSavedFrames() > 1000 && s.getCowBreaks() > 100 && state.getVmsCount() == 3
              && state.getVmsList().stream().allMatch(v -> v.getSharing().getCowBreaks() > 0);
        });
    ListVmsResponse state = lab.state();
    check(state, errors);
    assertEquals(List.of(), errors);
    MachineSharingState s = state.getMachine().getSharing();
    assertTrue(s.getEnabled());
    assertTrue(s.getZeroReferences() > 1000, "zero pages share the zero frame: " + s);
    assertTrue(s.getTableBytes() <= MACHINE_FRAMES * 4096 / 200, "the table stays under 0.5 %: " + s);
    // The scanner's work on each VM's pages is paid by its batches: share-scan (1.5 us) a page scanned.
    long paid = 0;
    for (VmState vm : state.getVmsList()) {
      assertTrue(vm.getSharing().getShareScanNs() > 0, vm.getName() + " paid for the scanner: " + vm.getSharing());
      assertTrue(vm.getSharing().getShareScanNs() <= vm.getSharing().getScannedPages() * 1_500,
          vm.getName() + " paid at most its pages scanned: " + vm.getSharing());
      paid += vm.getSharing().getShareScanNs();
    }
    assertEquals(paid, s.getShareScanNs(), "machine-wide, the VMs' sum");

    JvmProcess status = JvmProcess.start("status", BalloonLabCommand.class.getName(),
        List.of("status", "--hypervisor", lab.address()), "128m", lab.logDir().resolve("commands"), null);
    commands.add(status);
    await("status ends").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> !status.isAlive());
    assertEquals(0, status.process().exitValue());
    String text = String.join("\n", status.lines());
    assertTrue(text.contains("sharing: ") && text.contains(" shared frames for ") && text.contains("saved "), text);
    assertTrue(text.contains("  vm0: ") && text.contains("copy-on-write breaks") && text.contains(" paid)"), text);

    // Each guest audits every page it wrote as it stops: the last word on integrity and isolation.
    for (JvmProcess guest : guests) {
      guest.stop(60, TimeUnit.SECONDS);
      String summary = guest.lineStartingWith(GuestAgentCommand.SUMMARY);
      assertNotNull(summary, guest.name() + " printed its summary");
      assertTrue(summary.contains("integrity_violations=0"), summary);
      assertTrue(summary.contains("isolation_violations=0"), summary);
    }
    await("every frame back, the zero frame too").atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> lab.state().getMachine().getFreeFrames() == MACHINE_FRAMES);
    assertEquals(0, lab.state().getMachine().getSharing().getSharedFrames());
    assertEquals(0, lab.state().getMachine().getSharing().getHints());

    // The event log told each VM's progress, and what each power-off released.
    JvmProcess events = JvmProcess.start("events", BalloonLabCommand.class.getName(),
        List.of("events", "--hypervisor", lab.address()), "128m", lab.logDir().resolve("commands"), null);
    commands.add(events);
    await("events ends").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> !events.isAlive());
    assertEquals(0, events.process().exitValue());
    List<String> told = events.lines();
    for (int i = 0; i < 3; i++) {
      String vm = "vm" + i;
      assertTrue(told.stream().anyMatch(l -> l.contains(" sharing_progress ") && l.contains(" " + vm + " ")),
          vm + "'s progress: " + String.join("\n", told));
      assertEquals(1, told.stream().filter(l -> l.contains(" shared_frames_released ") && l.contains(" " + vm + " "))
          .count(), vm + "'s power-off: " + String.join("\n", told));
    }
  }

  /** Shared frames counted once: private + shared + free frames make up machine memory. */
  private static void check(ListVmsResponse state, List<String> errors) {
    MachineSharingState s = state.getMachine().getSharing();
    long mapped = state.getMachine().getMappedFrames();
    long free = state.getMachine().getFreeFrames();
    if (mapped - s.getSavedFrames() + free != MACHINE_FRAMES) {
      errors.add("mapped " + mapped + " - saved " + s.getSavedFrames() + " + free " + free + " != " + MACHINE_FRAMES);
    }
    for (VmState vm : state.getVmsList()) {
      if (vm.getGuest().getIntegrityViolations() != 0 || vm.getGuest().getIsolationViolations() != 0) {
        errors.add(vm.getName() + ": " + vm.getGuest().getIntegrityViolations() + " integrity, "
            + vm.getGuest().getIsolationViolations() + " isolation violations");
      }
    }
  }
}
