package org.balloonlab.lab.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.balloonlab.lab.BalloonLabCommand;
import org.balloonlab.units.CommandLineConverters;
import org.balloonlab.units.ExitCodes;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code balloonlab experiment --vms N} refused where a reduced run makes no sense, before anything starts. */
class ExperimentCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cl = CommandLineConverters.register(new CommandLine(new BalloonLabCommand()));
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    String[] all = new String[args.length + 3];
    all[0] = "experiment";
    System.arraycopy(args, 0, all, 1, args.length);
    all[args.length + 1] = "--experiments";
    all[args.length + 2] = Path.of("..", "experiments").toString();
    return cl.execute(all);
  }

  @Test
  void onlyAnExperimentThatAllowsItRunsReduced() {
    assertEquals(ExitCodes.USAGE, run("shares-and-min", "--vms", "2"));
    assertTrue(err.toString().contains("--vms: shares-and-min cannot be run reduced (only page-sharing can)"),
        err.toString());
    assertEquals("", out.toString(), "nothing was started");
  }

  @Test
  void aReducedRunKeepsTwoGuestsOrMoreAndNoMoreThanItsRunsHave() {
    assertEquals(ExitCodes.USAGE, run("page-sharing", "--vms", "1"));
    assertTrue(err.toString().contains("--vms: 1 is fewer than 2 guests"), err.toString());
    assertEquals(ExitCodes.USAGE, run("page-sharing", "--vms", "11"));
    assertTrue(err.toString().contains("--vms: 11 is more than the 10 guests of page-sharing's runs"),
        err.toString());
    assertEquals(ExitCodes.USAGE, run("page-sharing", "--vms", "three"));
    assertEquals(ExitCodes.USAGE, run("list", "--vms", "3"));
    assertTrue(err.toString().contains("--vms reduces a run of one experiment; it does not go with 'list'"),
        err.toString());
    assertEquals("", out.toString(), "nothing was started");
  }

  @Test
  void theHelpSaysWhatAReducedRunIs() {
    assertEquals(ExitCodes.OK, run("--help"));
    assertTrue(out.toString().contains("--vms=N"), out.toString());
    assertTrue(out.toString().contains("verdict=not_judged"), out.toString());
  }
}
