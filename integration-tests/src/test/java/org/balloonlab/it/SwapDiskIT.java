package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.hypervisor.cli.HypervisorCommand;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.proto.ListVmsResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Disks that fill up (issue 12, item 7), with real processes and a real small disk (an 8 MiB tmpfs, where the test
 * runs as root): swap that does not fit is a one-line start-up error with exit code 6, and swap files are gone
 * from the disk, their space with them, even when their processes are SIGKILLed. A swap failing later (an I/O
 * error) cannot be made to happen on a disk whose space was reserved at start; the unit tests cover it with a
 * failing slot store.
 */
class SwapDiskIT {
  private Lab lab;
  private SmallTmpfs disk;

  @AfterEach
  void tearDown() throws Exception {
    try {
      if (lab != null) {
        lab.close();
      }
    } finally {
      if (disk != null) {
        disk.close();
      }
    }
  }

  private static List<String> namesIn(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }

  /** The files under {@code dir} that {@code pid} holds open after they were unlinked. */
  private static long unlinkedFilesHeld(long pid, Path dir) throws IOException {
    String prefix = dir.toAbsolutePath().toString() + "/";
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      return fds.filter(fd -> {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          return target.startsWith(prefix) && target.endsWith(" (deleted)");
        } catch (IOException e) {
          return false;
        }
      }).count();
    }
  }

  private static String oneLine(Path log) throws IOException {
    String err = Files.readString(log).strip();
    assertEquals(1, err.lines().count(), "one line, no stack trace: " + err);
    return err;
  }

  @Test
  void aHypervisorWhoseHostSwapDoesNotFitExitsAtStartWithOneLine() throws Exception {
    disk = SmallTmpfs.mount(Path.of("target", "it-disks"), "8m");
    lab = new Lab("swap-disk-hypervisor");
    // 8 GiB of host swap is 2 Mi pages of 8 bytes: a 16 MiB file on an 8 MiB disk.
    JvmProcess hv = lab.startHypervisorProcessOnly("--listen", "127.0.0.1:0", "--memory", "64MiB",
        "--host-swap", "8GiB", "--host-swap-file", disk.dir().resolve("host.swap").toString());
    assertTrue(hv.process().waitFor(60, TimeUnit.SECONDS));
    assertEquals(HypervisorCommand.EXIT_HOST_SWAP, hv.process().exitValue());
    String err = oneLine(lab.logDir().resolve("hypervisor.err.log"));
    assertEquals("balloonlab hypervisor: cannot reserve 8GiB of host swap (a 16.0MiB file) in "
        + disk.dir().toAbsolutePath() + ": No space left on device (8.0MiB free)", err);
    assertEquals(List.of(), namesIn(disk.dir()), "nothing is left on the disk");
    assertEquals(8L << 20, disk.usableBytes());
  }

  @Test
  void aGuestWhoseSwapDoesNotFitExitsAtStartWithOneLineAndHoldsNoVm() throws Exception {
    disk = SmallTmpfs.mount(Path.of("target", "it-disks"), "8m");
    lab = new Lab("swap-disk-guest");
    lab.startHypervisor("--memory", "64MiB");
    JvmProcess guest = lab.startGuest("vm1", "--memory", "16MiB", "--swap", "8GiB", "--workload",
        "uniform:footprint=8MiB", "--swap-file", disk.dir().resolve("vm1.swap").toString());
    assertTrue(guest.process().waitFor(60, TimeUnit.SECONDS));
    assertEquals(GuestAgentCommand.EXIT_SWAP_RESERVE, guest.process().exitValue());
    String err = oneLine(lab.logDir().resolve("vm1.err.log"));
    assertEquals("guest-agent: vm1: cannot reserve 8GiB of guest swap (a 16.0MiB file) in "
        + disk.dir().toAbsolutePath() + ": No space left on device (8.0MiB free)", err);
    ListVmsResponse state = lab.state();
    assertEquals(0, state.getVmsCount());
    assertEquals(0, state.getMachine().getVmsReleased(), "the VM was never powered on, so nothing was held");
    assertEquals(List.of(), namesIn(disk.dir()));
  }

  @Test
  void swapFilesAreGoneByNameWhileRunningAndTheirSpaceAfterSigkill() throws Exception {
    disk = SmallTmpfs.mount(Path.of("target", "it-disks"), "8m");
    long free = disk.usableBytes();
    lab = new Lab("swap-disk-sigkill");
    // 1 GiB of host swap: a 2 MiB file; the guest's 512 MiB: 1 MiB.
    lab.startHypervisor("--memory", "64MiB", "--host-swap", "1GiB", "--host-swap-file",
        disk.dir().resolve("host.swap").toString());
    JvmProcess guest = lab.startReadyGuest("vm1", "--memory", "16MiB", "--swap", "512MiB", "--workload",
        "uniform:footprint=8MiB", "--duration", "1h", "--swap-file", disk.dir().resolve("vm1.swap").toString());

    assertEquals(List.of(), namesIn(disk.dir()), "both swap files are unlinked once open");
    assertEquals(1, unlinkedFilesHeld(lab.hypervisor().pid(), disk.dir()));
    assertEquals(1, unlinkedFilesHeld(guest.pid(), disk.dir()));
    assertTrue(free - disk.usableBytes() >= (2L << 20) + (1L << 20),
        "the space is reserved, not sparse: " + (free - disk.usableBytes()) + " bytes in use");

    guest.process().destroyForcibly();
    lab.hypervisor().process().destroyForcibly();
    assertTrue(guest.process().waitFor(10, TimeUnit.SECONDS));
    assertTrue(lab.hypervisor().process().waitFor(10, TimeUnit.SECONDS));
    await("the space of the killed processes' swap files is freed").atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(50)).until(() -> disk.usableBytes() == free);
    assertEquals(List.of(), namesIn(disk.dir()));
  }
}
