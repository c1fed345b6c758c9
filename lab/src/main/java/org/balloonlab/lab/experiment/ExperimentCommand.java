package org.balloonlab.lab.experiment;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.balloonlab.lab.scenario.ScenarioException;
import org.balloonlab.units.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code balloonlab experiment NAME}: runs one experiment of Waldspurger, OSDI 2002 from its definition under
 * {@code experiments/NAME/}, prints the paper's figure beside the simulator's and the verdict, and writes the
 * tables, the plot and {@code result.md} into a run folder; {@code balloonlab experiment list} lists them (and
 * checks every definition).
 */
@Command(name = "experiment", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Runs an experiment of Waldspurger, OSDI 2002 (or 'list' them): the paper's figure beside the "
        + "simulator's, a table, a plot and a verdict.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {ExitCodes.OK + ":the experiment ran (its verdict is printed; 'differs' is a result too), or "
        + "the list was printed", ExitCodes.FAILED + ":a run failed, left no report, or found integrity or "
        + "isolation violations; or a definition is wrong", ExitCodes.USAGE + ":bad command line",
        ExitCodes.INTERRUPTED + ":Ctrl-C"})
public final class ExperimentCommand implements Callable<Integer> {
  /** Printed at the end of a run: {@code BALLOONLAB_EXPERIMENT fig7 verdict=matches dir=runs/...}. */
  public static final String RESULT = "BALLOONLAB_EXPERIMENT ";

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "NAME", description = "The experiment to run, or 'list'.")
  String name;

  @Option(names = "--experiments", paramLabel = "DIR", defaultValue = "experiments",
      description = "Where the experiments' directories are (default: ${DEFAULT-VALUE}).")
  Path experimentsDir;

  @Option(names = "--run-dir", paramLabel = "DIR",
      description = "The experiment's run folder (default: runs/experiment-NAME-<date>-<time>).")
  Path runDir;

  @Option(names = "--vms", paramLabel = "N",
      description = "A reduced run, for a quick check: each run with its first N guests (2 or more); a run whose "
          + "guests start one after another ends where guest N+1 would have started. Its criteria are checked but "
          + "not judged (verdict=not_judged). Only for experiments that allow it (page-sharing).")
  Integer vms;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!Files.isDirectory(experimentsDir)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--experiments: " + experimentsDir
          + " is not a directory (run from the checkout's root, or give --experiments DIR)");
    }
    if (name.equals("list")) {
      if (vms != null) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--vms reduces a run of one experiment; it "
            + "does not go with 'list'");
      }
      return list(out, err);
    }
    Optional<Experiment> experiment = Experiments.named(name);
    if (experiment.isEmpty()) {
      String shown = name.length() > 40 ? name.substring(0, 40) + "..." : name;
      throw new CommandLine.ParameterException(spec.commandLine(), "no experiment \""
          + shown.replaceAll("\\p{Cntrl}", "?") + "\"; 'balloonlab experiment list' lists them");
    }
    if (vms != null && !experiment.get().reducible()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--vms: " + name + " cannot be run reduced "
          + "(only " + String.join(", ", Experiments.all().stream().filter(Experiment::reducible)
          .map(Experiment::name).toList()) + " can)");
    }
    if (vms != null && vms < 2) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--vms: " + vms + " is fewer than 2 guests");
    }
    ExperimentDefinition def;
    try {
      def = DefinitionParser.parse(experimentsDir.resolve(name), experiment.get());
    } catch (ScenarioException e) {
      err.println(e.getMessage());
      return ExitCodes.FAILED;
    }
    if (vms != null) {
      if (vms > def.fewestGuests()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--vms: " + vms + " is more than the "
            + def.fewestGuests() + " guests of " + name + "'s runs");
      }
      def = def.reducedTo(vms);
    }
    Path dir = runDir != null ? runDir : Path.of("runs", "experiment-" + name + "-"
        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)));
    out.printf("BalloonLab experiment %s: %s; %d run(s)%s into %s%n", name, def.title(), def.runs().size(),
        def.reduced() ? ", reduced to each run's first " + def.vms() + " guests" : "", dir);
    out.flush();
    ExperimentRunner.Result result;
    try {
      result = ExperimentRunner.run(def, experiment.get(), dir, out);
    } catch (IOException e) {
      err.println("balloonlab experiment " + name + ": " + e.getMessage());
      return ExitCodes.FAILED;
    }
    out.println(RESULT + name + " verdict=" + result.verdict().outcome().name().toLowerCase(Locale.ROOT)
        + " dir=" + dir);
    out.flush();
    return result.metrics().getOrDefault("violations", 0.0) == 0 && result.failedRuns().isEmpty() ? ExitCodes.OK
        : ExitCodes.FAILED;
  }

  private int list(PrintWriter out, PrintWriter err) throws Exception {
    int code = ExitCodes.OK;
    for (Experiment e : Experiments.all()) {
      try {
        ExperimentDefinition def = DefinitionParser.parse(experimentsDir.resolve(e.name()), e);
        out.printf("%-22s %s (%d run(s): %s)%n", e.name(), def.title(), def.runs().size(),
            String.join(", ", def.runs().stream().map(ExperimentDefinition.Run::label).toList()));
      } catch (ScenarioException ex) {
        err.println(ex.getMessage());
        code = ExitCodes.FAILED;
      }
    }
    out.flush();
    return code;
  }
}
