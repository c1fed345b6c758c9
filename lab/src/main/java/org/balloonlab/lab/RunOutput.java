package org.balloonlab.lab;

import java.nio.file.Path;
import org.balloonlab.units.HostPort;
import picocli.CommandLine.Option;

/** Where a run started from the command line keeps its files, and how its live table is printed. */
final class RunOutput {
  @Option(names = "--run-dir", paramLabel = "DIR",
      description = "The run's folder: the processes' logs and the report (default: runs/<name>-<date>-<time>).")
  Path runDir;

  @Option(names = "--dashboard", paramLabel = "HOST:PORT", arity = "0..1", fallbackValue = "127.0.0.1:0",
      description = "Serve the live web dashboard while the lab runs, on HOST:PORT (alone: 127.0.0.1 on a free "
          + "port); the run prints its address and writes a one-time sign-in address to dashboard-login.url in the "
          + "run's folder. Needs the operator token (docs/dashboard.md).")
  HostPort dashboard;

  @Option(names = "--plain", description = "Print the live table as lines instead of redrawing it in place.")
  boolean plain;

  /** Whether to redraw the table in place: on a terminal that can, unless {@code --plain}. */
  boolean ansi() {
    return !plain && System.console() != null && !"dumb".equals(System.getenv("TERM"));
  }
}
