package org.balloonlab.hypervisor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.balloonlab.units.ExitCodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** The command line's help and its refusals; every invalid argument fails before a server is started. */
class HypervisorCommandTest {

  record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = HypervisorCommand.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void helpExitsZeroAndDescribesTheOptions() {
    Run r = run("--help");
    assertEquals(0, r.exitCode(), r.err());
    for (String option : new String[] {"--memory", "--listen", "--host-swap", "--max-batch", "--detach-timeout",
        "--cost", "--disk-profile", "disk-2002", "--seed", "--policy", "--tau", "--sample-pages", "--sample-period", "--free-high", "--free-soft",
        "--free-hard", "--free-low", "--tlb-entries", "--tlb-ways", "--tlb-untagged", "vm-exit",
        "page-walk-reference", "--keepalive", "--max-vms", "--max-configured-memory", "--max-translation-tables",
        "--page-sharing", "--share-scan-rate", "--share-scan-max", "share-before-paging", "copy-frame", "share-scan"}) {
      assertTrue(r.out().contains(option), "help should mention " + option + ":\n" + r.out());
    }
    assertTrue(r.out().contains("1GiB"), "help shows the default memory:\n" + r.out());
    assertTrue(r.err().isEmpty(), r.err());
  }

  @Test
  void quotasDefaultToSixtyFourVmsFourTimesMemoryAndEightMibOfTablesAndFollowTheirFlags() {
    CommandLine cl = HypervisorCommand.commandLine();
    cl.parseArgs("--memory", "64MiB");
    HypervisorCommand cmd = cl.getCommand();
    org.balloonlab.hypervisor.machine.Quotas q = cmd.quotas(16384);
    assertEquals(64, q.maxVms());
    assertEquals(4 * 16384, q.maxConfiguredPages());
    assertEquals(2048, q.maxTranslationTablePages());
    cl = HypervisorCommand.commandLine();
    cl.parseArgs("--max-vms", "3", "--max-configured-memory", "1GiB", "--max-translation-tables", "1MiB");
    q = cl.<HypervisorCommand>getCommand().quotas(16384);
    assertEquals(new org.balloonlab.hypervisor.machine.Quotas(3, 262144, 256), q);
  }

  @Test
  void aDiskProfileSetsBothSwapsAndCostFlagsOverrideIt() throws Exception {
    CommandLine cl = HypervisorCommand.commandLine();
    cl.parseArgs("--memory", "64MiB", "--host-swap-file", "unused.swap");
    org.balloonlab.hypervisor.time.CostModel ssd = cl.<HypervisorCommand>getCommand().config().costs();
    assertEquals(org.balloonlab.hypervisor.time.CostModel.DEFAULT, ssd, "ssd is the default: today's constants");
    cl = HypervisorCommand.commandLine();
    cl.parseArgs("--memory", "64MiB", "--host-swap-file", "unused.swap", "--disk-profile", "DISK-2002",
        "--cost", "host-swap-write=9000000");
    org.balloonlab.hypervisor.time.CostModel old = cl.<HypervisorCommand>getCommand().config().costs();
    assertEquals(8_000_000, old.guestSwapReadNs());
    assertEquals(8_000_000, old.guestSwapWriteNs());
    assertEquals(8_000_000, old.hostSwapReadNs());
    assertEquals(9_000_000, old.hostSwapWriteNs(), "--cost applies after the profile");
    assertEquals(ssd.memoryAccessNs(), old.memoryAccessNs(), "the profile changes the disk only");
  }

  @Test
  void versionExitsZero() {
    Run r = run("--version");
    assertEquals(0, r.exitCode());
    assertTrue(r.out().contains("BalloonLab"), r.out());
  }

  static Stream<Arguments> invalidArguments() {
    return Stream.of(
        Arguments.of(new String[] {"--memory", "-1"}, "--memory"),
        Arguments.of(new String[] {"--memory", "abc"}, "--memory"),
        Arguments.of(new String[] {"--memory", "5000"}, "--memory"),
        Arguments.of(new String[] {"--memory", "0"}, "--memory"),
        Arguments.of(new String[] {"--memory", "16TiB"}, "--memory"),
        Arguments.of(new String[] {"--memory=1.5GiB"}, "--memory"),
        Arguments.of(new String[] {"--host-swap", "5000"}, "--host-swap"),
        Arguments.of(new String[] {"--host-swap", "lots"}, "--host-swap"),
        Arguments.of(new String[] {"--cost", "bogus=1"}, "--cost"),
        Arguments.of(new String[] {"--disk-profile", "floppy"}, "--disk-profile"),
        Arguments.of(new String[] {"--disk-profile", ""}, "--disk-profile"),
        Arguments.of(new String[] {"--cost", "hidden-fault=-3"}, "--cost"),
        Arguments.of(new String[] {"--cost", "hidden-fault=fast"}, "--cost"),
        Arguments.of(new String[] {"--cost", "hidden-fault"}, "--cost"),
        Arguments.of(new String[] {"--max-batch", "0"}, "--max-batch"),
        Arguments.of(new String[] {"--max-batch", "-5"}, "--max-batch"),
        Arguments.of(new String[] {"--max-batch", "2000000"}, "--max-batch"),
        Arguments.of(new String[] {"--max-batch", "many"}, "--max-batch"),
        Arguments.of(new String[] {"--detach-timeout", "0s"}, "--detach-timeout"),
        Arguments.of(new String[] {"--detach-timeout", "soon"}, "--detach-timeout"),
        Arguments.of(new String[] {"--keepalive", "9s"}, "--keepalive"),
        Arguments.of(new String[] {"--keepalive", "10s,0s"}, "--keepalive"),
        Arguments.of(new String[] {"--keepalive", "soon"}, "--keepalive"),
        Arguments.of(new String[] {"--listen", "nowhere"}, "--listen"),
        Arguments.of(new String[] {"--seed", "x"}, "--seed"),
        Arguments.of(new String[] {"--policy", "greedy"}, "--policy"),
        Arguments.of(new String[] {"--tau", "1"}, "--tau"),
        Arguments.of(new String[] {"--tau", "-0.5"}, "--tau"),
        Arguments.of(new String[] {"--tau", "much"}, "--tau"),
        Arguments.of(new String[] {"--sample-pages", "0"}, "--sample-pages"),
        Arguments.of(new String[] {"--sample-period", "0s"}, "--sample-period"),
        Arguments.of(new String[] {"--sample-gains", "0.1,0.5"}, "--sample-gains"),
        Arguments.of(new String[] {"--sample-gains", "0.5"}, "--sample-gains"),
        Arguments.of(new String[] {"--sample-gains", "a,b"}, "--sample-gains"),
        Arguments.of(new String[] {"--free-soft", "7"}, "--free-soft"),
        Arguments.of(new String[] {"--free-low", "-1"}, "--free-low"),
        Arguments.of(new String[] {"--free-hysteresis", "-1"}, "--free-hysteresis"),
        Arguments.of(new String[] {"--policy-period", "0s"}, "--policy-period"),
        Arguments.of(new String[] {"--tlb-entries", "0"}, "--tlb-entries"),
        Arguments.of(new String[] {"--tlb-entries", "many"}, "--tlb-entries"),
        Arguments.of(new String[] {"--tlb-entries", "1000", "--tlb-ways", "3"}, "--tlb-ways"),
        Arguments.of(new String[] {"--tlb-ways", "0"}, "--tlb-ways"),
        Arguments.of(new String[] {"--cost", "vm-exit=-1"}, "--cost"),
        Arguments.of(new String[] {"--max-vms", "0"}, "--max-vms"),
        Arguments.of(new String[] {"--max-vms", "-3"}, "--max-vms"),
        Arguments.of(new String[] {"--max-vms", "1000000"}, "--max-vms"),
        Arguments.of(new String[] {"--max-vms", "lots"}, "--max-vms"),
        Arguments.of(new String[] {"--max-configured-memory", "0"}, "--max-configured-memory"),
        Arguments.of(new String[] {"--max-configured-memory", "5000"}, "--max-configured-memory"),
        Arguments.of(new String[] {"--max-translation-tables", "32KiB"}, "--max-translation-tables"),
        Arguments.of(new String[] {"--max-translation-tables", "huge"}, "--max-translation-tables"),
        Arguments.of(new String[] {"--page-sharing", "--share-scan-rate", "0"}, "--share-scan-rate"),
        Arguments.of(new String[] {"--share-scan-rate", "many"}, "--share-scan-rate"),
        Arguments.of(new String[] {"--share-scan-max", "-1"}, "--share-scan-max"),
        Arguments.of(new String[] {"--share-scan-max", "99999999"}, "--share-scan-max"),
        Arguments.of(new String[] {"--cost", "copy-frame=-1"}, "--cost"),
        Arguments.of(new String[] {"--cost", "share-scan=-5"}, "--cost"),
        Arguments.of(new String[] {"--cost", "share-scan=fast"}, "--cost"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidArguments")
  void invalidArgumentsExitNonZeroNamingTheOption(String[] args, String option) {
    Run r = run(args);
    assertNotEquals(0, r.exitCode(), "exit code for " + String.join(" ", args));
    String firstLine = r.err().lines().findFirst().orElse("");
    assertTrue(firstLine.contains(option), "the error should name " + option + ":\n" + r.err());
    assertTrue(r.out().isEmpty(), "nothing on standard output (no server started):\n" + r.out());
    assertTrue(!r.out().contains(HypervisorCommand.LISTENING));
  }

  @Test
  void anAddressInUseCannotStartInOneLine() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getByName("127.0.0.1"))) {
      Path swap = Files.createTempFile("balloonlab-test-", ".swap");
      try {
        Run r = run("--memory", "16MiB", "--listen", "127.0.0.1:" + taken.getLocalPort(), "--host-swap-file",
            swap.toString());
        assertEquals(ExitCodes.CANNOT_START, r.exitCode(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("hypervisor: cannot listen on 127.0.0.1:" + taken.getLocalPort()), r.err());
        assertTrue(r.out().isEmpty(), r.out());
      } finally {
        Files.deleteIfExists(swap);
      }
    }
  }

  @Test
  void theHelpListsTheExitCodes() {
    Run r = run("--help");
    for (int code : new int[] {ExitCodes.USAGE, ExitCodes.CANNOT_START, ExitCodes.INTERRUPTED,
        ExitCodes.TERMINATED}) {
      assertTrue(r.out().lines().anyMatch(l -> l.strip().startsWith(code + " ")), code + " in " + r.out());
    }
    assertTrue(r.out().contains("--exit-with-parent"), r.out());
  }

  @Test
  void unknownOptionsAreUsageErrors() {
    Run r = run("--frobnicate");
    assertEquals(2, r.exitCode());
    assertTrue(r.err().contains("--frobnicate"), r.err());
  }
}
