package org.balloonlab.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.balloonlab.units.CommandLineConverters;
import org.balloonlab.units.ExitCodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code balloonlab run} refusing what it cannot run, before it starts any process. */
class RunCommandTest {
  @TempDir
  Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cl = CommandLineConverters.register(new CommandLine(new BalloonLabCommand()));
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  @Test
  void aScenarioWithMistakesIsRefusedNamingFileLineAndField() throws IOException {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, """
        duration: 10s
        hypervisor:
          memory: 256MiB
        guests:
          - name: vm1
            memory: 192MiB
            workload: uniform:footprint=64MiB
          - name: vm2
            memory: 12XB
            workload: uniform:footprint=64MiB
            balloon: maybe
        """);
    assertEquals(2, run("run", file.toString()));
    String text = err.toString();
    assertTrue(text.contains(file + ":9: guests[1].memory: \"12XB\" is not a size (use 512MiB, 4GiB)"), text);
    assertTrue(text.contains(file + ":11: guests[1].balloon: \"maybe\" is not a driver mode"), text);
    assertEquals("", out.toString(), "nothing was started");
  }

  @Test
  void onlyPartsTheScenarioHasAndAHypervisorToJoin() throws IOException {
    Path file = dir.resolve("ok.yaml");
    Files.writeString(file, """
        duration: 10s
        hypervisor: {memory: 64MiB}
        guests:
          - {name: vm1, memory: 32MiB, workload: "uniform:footprint=16MiB"}
        """);
    assertEquals(2, run("run", file.toString(), "--only", "vm9"));
    assertTrue(err.toString().contains("--only: \"vm9\" is neither hypervisor nor a guest"), err.toString());
    assertEquals(2, run("run", file.toString(), "--only", "vm1"));
    assertTrue(err.toString().contains("give --hypervisor HOST:PORT"), err.toString());
  }

  @Test
  void guestsJoiningAHypervisorElsewhereNeedTheLabToken() throws IOException {
    Path file = dir.resolve("ok.yaml");
    Files.writeString(file, """
        duration: 10s
        hypervisor: {memory: 64MiB}
        guests:
          - {name: vm1, memory: 32MiB, workload: "uniform:footprint=16MiB"}
        """);
    // An address no state directory on this machine is named after, so only a flag or $BALLOONLAB_LAB_TOKEN helps.
    if (System.getenv("BALLOONLAB_LAB_TOKEN") == null) {
      assertEquals(2, run("run", file.toString(), "--only", "vm1", "--hypervisor", "192.0.2.1:1"));
      assertTrue(err.toString().contains("guests joining the hypervisor at 192.0.2.1:1 need its lab token: ask the "
          + "lab's operator for it and give --lab-token-file FILE or $BALLOONLAB_LAB_TOKEN"), err.toString());
    }
    Files.writeString(dir.resolve("bad.token"), "short");
    assertEquals(2, run("run", file.toString(), "--only", "vm1", "--hypervisor", "192.0.2.1:1", "--lab-token-file",
        dir.resolve("bad.token").toString()));
    assertTrue(err.toString().contains("the lab token in " + dir.resolve("bad.token") + " must be 16 to 256 "
        + "characters long, got 5"), err.toString());
    assertEquals("", out.toString().lines().filter(l -> l.contains("powered on")).findFirst().orElse(""));
  }

  void aMissingFileIsABadCommandLineInOneLine() {
    assertEquals(ExitCodes.USAGE, run("run", dir.resolve("nope.yaml").toString()));
    assertEquals("balloonlab run: no scenario file " + dir.resolve("nope.yaml") + " (the scenarios that come with "
        + "BalloonLab are in scenarios/) (see balloonlab run --help)", err.toString().strip());
  }

  @Test
  void aSizeThatIsNotWholePagesIsAUsageErrorNotAStackTrace() {
    assertEquals(ExitCodes.USAGE, run("lab", "--guest-memory", "5000"));
    assertEquals(1, err.toString().lines().count(), err.toString());
    assertTrue(err.toString().contains("--guest-memory must be a positive multiple of the 4 KiB page size"),
        err.toString());
    assertEquals("", out.toString(), "nothing was started");
  }

  @Test
  void theHelpListsTheExitCodes() {
    assertEquals(ExitCodes.OK, run("run", "--help"));
    assertTrue(out.toString().contains("Exit codes:"), out.toString());
    for (int code : new int[] {ExitCodes.OK, ExitCodes.FAILED, ExitCodes.USAGE, ExitCodes.INTERRUPTED}) {
      assertTrue(out.toString().lines().anyMatch(l -> l.strip().startsWith(code + " ")), code + " in " + out);
    }
  }
}
