package org.balloonlab.hypervisor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.balloonlab.transport.Token;
import org.balloonlab.units.HostPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The hypervisor's token and TLS flags: help, refusals, the files it writes, the warning. */
class SecurityOptionsTest {
  @TempDir
  Path dir;

  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = HypervisorCommand.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new String[] {String.valueOf(code), out.toString(), err.toString()};
  }

  @Test
  void helpDescribesTheFlagsAndWhatIsOpenOnLoopback() {
    String help = run("--help")[1];
    for (String flag : new String[] {"--state-dir", "--operator-token-file", "--lab-token-file", "--tls-cert",
        "--tls-key", "--tls-client-ca", "BALLOONLAB_OPERATOR_TOKEN", "BALLOONLAB_LAB_TOKEN", "loopback"}) {
      assertTrue(help.contains(flag), flag + " in:\n" + help);
    }
  }

  @Test
  void badTokensAndHalfTlsAreRefusedBeforeAnythingStarts() throws Exception {
    Path bad = Files.writeString(dir.resolve("lab.token"), "short\n");
    String[] r = run("--lab-token-file", bad.toString());
    assertEquals("2", r[0]);
    assertTrue(r[2].contains("the lab token in " + bad + " must be 16 to 256 characters long, got 5"), r[2]);
    Path cert = Files.writeString(dir.resolve("hv.crt"), "x");
    r = run("--tls-cert", cert.toString());
    assertEquals("2", r[0]);
    assertTrue(r[2].contains("--tls-cert and --tls-key go together"), r[2]);
    r = run("--tls-cert", cert.toString(), "--tls-key", dir.resolve("missing.key").toString());
    assertTrue(r[2].contains("--tls-key: " + dir.resolve("missing.key") + " is not a file"), r[2]);
    Path same = Files.writeString(dir.resolve("same.token"), Token.generate().reveal());
    r = run("--lab-token-file", same.toString(), "--operator-token-file", same.toString());
    assertTrue(r[2].contains("the operator and the lab token must differ"), r[2]);
  }

  @Test
  void generatedTokensAreWrittenForTheOwnerOnlyAndGivenOnesAreNot() throws Exception {
    SecurityOptions s = new SecurityOptions();
    s.stateDir = dir.resolve("state");
    Token given = Token.generate();
    s.resolve(new CommandLine(new HypervisorCommand()), Map.of("BALLOONLAB_OPERATOR_TOKEN", given.reveal()));
    assertTrue(s.operator().matches(given.reveal()));
    Path written = s.writeGenerated(new HostPort("127.0.0.1", 7400)).orElseThrow();
    assertEquals(dir.resolve("state"), written);
    assertFalse(Files.exists(written.resolve("operator.token")), "a given token is not written");
    assertEquals("rw-------", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(written.resolve("lab.token"))));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(written)));
    s.removeWritten();
    assertFalse(Files.exists(written.resolve("lab.token")));
  }

  @Test
  void plaintextOnANonLoopbackAddressWarnsLoudly() {
    SecurityOptions s = new SecurityOptions();
    s.resolve(new CommandLine(new HypervisorCommand()), Map.of());
    StringWriter err = new StringWriter();
    s.warnIfExposed(HostPort.parse("0.0.0.0:7400"), new PrintWriter(err, true));
    String[] lines = err.toString().split("\n");
    assertEquals(6, lines.length, err.toString());
    assertTrue(lines[1].equals("WARNING: the hypervisor listens on 0.0.0.0:7400, reachable from other machines, "
        + "WITHOUT TLS."), lines[1]);
    StringWriter quiet = new StringWriter();
    s.warnIfExposed(HostPort.parse("127.0.0.1:7400"), new PrintWriter(quiet, true));
    assertEquals("", quiet.toString());
  }
}
