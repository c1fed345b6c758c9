package org.balloonlab.hypervisor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A host swap file that cannot be reserved is one line and exit code 6 at start, before anything serves. */
class HostSwapReservationCommandTest {
  @TempDir
  Path dir;

  @Test
  void aHostSwapFileThatCannotBeCreatedIsOneLineAndExitSix() throws IOException {
    Path notADirectory = Files.writeString(dir.resolve("plain"), "x");
    CommandLine cl = HypervisorCommand.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));

    int code = cl.execute("--listen", "127.0.0.1:0", "--memory", "16MiB", "--host-swap", "64MiB",
        "--host-swap-file", notADirectory.resolve("host.swap").toString());

    assertEquals(HypervisorCommand.EXIT_HOST_SWAP, code, err.toString());
    String line = err.toString().strip();
    assertEquals(1, line.lines().count(), "one line, no stack trace: " + line);
    assertTrue(line.startsWith("balloonlab hypervisor: cannot reserve 64MiB of host swap (a 128.0KiB file) in "),
        line);
    assertTrue(line.endsWith("is not a directory"), line);
    assertTrue(!out.toString().contains(HypervisorCommand.LISTENING), "nothing was served: " + out);
    try (Stream<Path> left = Files.list(dir)) {
      assertEquals(1, left.count(), "nothing but the plain file");
    }
  }

  @Test
  void helpListsTheExitCode() {
    CommandLine cl = HypervisorCommand.commandLine();
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    assertEquals(0, cl.execute("--help"));
    assertTrue(out.toString().replaceAll("\\s+", " ").contains(
        "3 cannot start: the address cannot be listened on, or the host swap file could not be reserved"), out.toString());
  }
}
