package org.balloonlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.DriverMode.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** {@code --balloon}: the converter reads modes with {@link DriverMode#parse} (tested in the domain module). */
class BalloonModeConverterTest {
  private final BalloonModeConverter converter = new BalloonModeConverter();

  @Test
  void readsEveryMode() {
    assertEquals(DriverMode.of(Kind.ENABLED), converter.convert("enabled"));
    assertEquals(DriverMode.of(Kind.DISABLED), converter.convert("DISABLED"));
    assertEquals(DriverMode.of(Kind.UNINSTALLED), converter.convert("uninstalled"));
    assertEquals(new DriverMode(Kind.LATE, 30_000, 0, 1.0), converter.convert("late:30s"));
    assertEquals(new DriverMode(Kind.SLOW, 0, 1000, 1.0), converter.convert("slow:1000"));
    assertEquals(new DriverMode(Kind.STUCK, 0, 0, 1.0), converter.convert("stuck"));
    assertEquals(new DriverMode(Kind.STUCK, 0, 0, 0.25), converter.convert("stuck:0.25"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"bogus", "late", "late:soon", "slow", "slow:0", "slow:-5", "slow:fast", "stuck:0",
      "stuck:2", "stuck:x", "enabled:1", "disabled:yes"})
  void refusesWhatIsNotAMode(String text) {
    CommandLine.TypeConversionException e =
        assertThrows(CommandLine.TypeConversionException.class, () -> converter.convert(text));
    assertTrue(e.getMessage().length() > 10, e.getMessage());
    assertEquals(assertThrows(IllegalArgumentException.class, () -> DriverMode.parse(text)).getMessage(),
        e.getMessage());
  }

  @Test
  void aBadModeIsAUsageErrorNamingTheOption() {
    StringWriter err = new StringWriter();
    int code = GuestAgentCommand.commandLine().setErr(new PrintWriter(err)).setOut(new PrintWriter(new StringWriter()))
        .execute("--hypervisor", "127.0.0.1:1", "--name", "vm", "--balloon", "slow:0");
    assertEquals(CommandLine.ExitCode.USAGE, code);
    assertTrue(err.toString().contains("--balloon"), err.toString());
  }

  @Test
  void badBalloonSettingsAreUsageErrors() {
    for (String[] args : new String[][] {{"--balloon-cap", "1.5"}, {"--balloon-poll", "0s"}, {"--balloon-batch", "0"}}) {
      StringWriter err = new StringWriter();
      String[] all = {"--hypervisor", "127.0.0.1:1", "--name", "vm", args[0], args[1]};
      int code = GuestAgentCommand.commandLine().setErr(new PrintWriter(err))
          .setOut(new PrintWriter(new StringWriter())).execute(all);
      assertEquals(CommandLine.ExitCode.USAGE, code, String.join(" ", all));
      assertTrue(err.toString().contains(args[0]), err.toString());
    }
  }
}
