package org.balloonlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.balloonlab.balloon.driver.BalloonHost.Mode;
import org.balloonlab.balloon.driver.BalloonHost.ModeRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class BalloonModeConverterTest {

  @Test
  void readsEveryMode() {
    assertEquals(ModeRequest.of(Mode.ENABLED), BalloonModeConverter.parse("enabled"));
    assertEquals(ModeRequest.of(Mode.DISABLED), BalloonModeConverter.parse("DISABLED"));
    assertEquals(ModeRequest.of(Mode.UNINSTALLED), BalloonModeConverter.parse("uninstalled"));
    assertEquals(new ModeRequest(Mode.LATE, 30_000, 0, 1.0), BalloonModeConverter.parse("late:30s"));
    assertEquals(new ModeRequest(Mode.SLOW, 0, 1000, 1.0), BalloonModeConverter.parse("slow:1000"));
    assertEquals(new ModeRequest(Mode.STUCK, 0, 0, 1.0), BalloonModeConverter.parse("stuck"));
    assertEquals(new ModeRequest(Mode.STUCK, 0, 0, 0.25), BalloonModeConverter.parse("stuck:0.25"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"bogus", "late", "late:soon", "slow", "slow:0", "slow:-5", "slow:fast", "stuck:0",
      "stuck:2", "stuck:x", "enabled:1", "disabled:yes"})
  void refusesWhatIsNotAMode(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BalloonModeConverter.parse(text));
    assertTrue(e.getMessage().length() > 10, e.getMessage());
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
