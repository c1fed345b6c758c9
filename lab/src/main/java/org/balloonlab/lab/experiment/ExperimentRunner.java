package org.balloonlab.lab.experiment;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.balloonlab.lab.LabRun;

/**
 * Runs an experiment: each of its scenarios by the lab's own launcher ({@link LabRun}, as {@code balloonlab run}
 * does, on the lab clock) into a folder of its own under the experiment's run folder, then the experiment's
 * analysis, the verdict from the definition's criteria, and the files: {@code comparison.csv}/{@code .md} (the
 * paper's numbers beside the simulator's), one CSV per further table, {@code plot.png} and {@code result.md} (all
 * of it, with the verdict and every criterion checked).
 */
public final class ExperimentRunner {
  /** Metrics every experiment has, computed here from every run. */
  public static final Map<String, String> COMMON_METRICS = Map.of(
      "violations", "integrity and isolation violations over every guest of every run",
      "reproducible", "1 if the lab clock found every run reproducible, else 0");

  /**
   * What an experiment gave.
   *
   * @param metrics every metric, the experiment's and the common ones
   * @param comparison the paper's numbers beside the simulator's
   * @param verdict the verdict
   * @param wallSeconds how long each run took, by label (wall time, for the docs only)
   * @param failedRuns the labels of the runs whose launcher did not end well (a process ended badly)
   */
  public record Result(Map<String, Double> metrics, ResultTable comparison, Verdict verdict,
                       Map<String, Double> wallSeconds, List<String> failedRuns) {
  }

  private ExperimentRunner() {}

  /**
   * Runs the experiment into {@code dir}; prints progress, the comparison and the verdict to {@code out}.
   *
   * @throws IOException if a run could not be started or left no report
   */
  public static Result run(ExperimentDefinition def, Experiment experiment, Path dir, PrintWriter out)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Map<String, RunResult> runs = new LinkedHashMap<>();
    List<String> failed = new ArrayList<>();
    for (ExperimentDefinition.Run run : def.runs()) {
      Path runDir = dir.resolve(run.label());
      out.printf("run %s: %s (%d s of lab time at most); log in %s%n", run.label(), run.file(),
          run.scenario().duration().toSeconds(), runDir.resolve("launcher.log"));
      out.flush();
      Files.createDirectories(runDir);
      // Wall time only says how long the experiment took on this machine; no result depends on it.
      long start = System.nanoTime();
      int code;
      try (PrintWriter log = new PrintWriter(Files.newBufferedWriter(runDir.resolve("launcher.log"),
          StandardCharsets.UTF_8))) {
        code = new LabRun(run.scenario(), new LabRun.Options(Set.of(), null, null, runDir, false, null), log).run();
      }
      double wall = (System.nanoTime() - start) / 1e9;
      out.printf(Locale.ROOT, "run %s ended (exit %d) after %.0f wall seconds%n", run.label(), code, wall);
      if (code != 0) {
        failed.add(run.label());
        out.printf("run %s did not end well: see %s%n", run.label(), runDir.resolve("launcher.log"));
      }
      out.flush();
      runs.put(run.label(), RunResult.read(run.label(), runDir, wall));
    }
    Result r = analyse(def, experiment, runs, dir, out);
    return new Result(r.metrics(), r.comparison(), r.verdict(), r.wallSeconds(), List.copyOf(failed));
  }

  /** Analyses runs already made (from {@link #run}, or read back from their folders) and writes the files. */
  static Result analyse(ExperimentDefinition def, Experiment experiment, Map<String, RunResult> runs, Path dir,
                        PrintWriter out) throws IOException {
    Experiment.Analysis analysis = experiment.analyse(def, runs);
    Map<String, Double> metrics = new LinkedHashMap<>(analysis.metrics());
    long violations = 0;
    boolean reproducible = true;
    Map<String, Double> wall = new LinkedHashMap<>();
    for (RunResult r : runs.values()) {
      violations += r.violations();
      reproducible &= r.reproducible();
      wall.put(r.label(), r.wallSeconds());
    }
    metrics.put("violations", (double) violations);
    metrics.put("reproducible", reproducible ? 1.0 : 0.0);
    ResultTable comparison = comparison(def, metrics);
    Verdict verdict = def.reduced() ? Verdict.notJudged(def.matches(), def.shape(), metrics)
        : Verdict.judge(def.matches(), def.shape(), metrics);

    Files.writeString(dir.resolve("comparison.csv"), comparison.csv(), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("comparison.md"), comparison.markdown(), StandardCharsets.UTF_8);
    for (ResultTable t : analysis.tables()) {
      Files.writeString(dir.resolve(t.name() + ".csv"), t.csv(), StandardCharsets.UTF_8);
    }
    analysis.chart().write(dir.resolve("plot.png"));
    for (Map.Entry<String, ExperimentChart> plot : analysis.morePlots().entrySet()) {
      plot.getValue().write(dir.resolve(plot.getKey()));
    }
    Files.writeString(dir.resolve("result.md"), markdown(def, experiment, analysis, metrics, comparison, verdict,
        wall), StandardCharsets.UTF_8);

    out.println();
    out.println("== " + def.title() + " ==");
    out.println("The paper (Waldspurger, OSDI 2002):");
    def.paper().lines().forEach(l -> out.println("  " + l));
    out.println();
    out.println("The paper beside BalloonLab:");
    out.print(comparison.text());
    for (ResultTable t : analysis.tables()) {
      out.println();
      out.println(t.title() + ":");
      out.print(t.text());
    }
    out.println();
    verdict.checks().forEach(c -> out.println("  " + c));
    if (def.reduced()) {
      out.println("a reduced run (--vms " + def.vms() + "): each run with its first " + def.vms() + " guests; the "
          + "criteria above were written for the whole experiment and are not judged");
    }
    out.println("verdict: " + verdict.outcome());
    List<String> files = new ArrayList<>(List.of("comparison.csv", "comparison.md"));
    analysis.tables().forEach(t -> files.add(t.name() + ".csv"));
    files.add("plot.png");
    files.addAll(analysis.morePlots().keySet());
    out.println("files: " + dir.resolve("result.md") + ", " + String.join(", ", files));
    out.flush();
    return new Result(metrics, comparison, verdict, wall, List.of());
  }

  static ResultTable comparison(ExperimentDefinition def, Map<String, Double> metrics) {
    List<List<String>> rows = new ArrayList<>();
    for (ExperimentDefinition.Row r : def.compare()) {
      Double v = metrics.get(r.metric());
      rows.add(List.of(r.quantity(), r.paper(), v == null ? "-" : ResultTable.number(v), r.unit(), r.metric()));
    }
    return new ResultTable("comparison", "The paper beside BalloonLab",
        List.of("quantity", "paper", "BalloonLab", "unit", "metric"), rows);
  }

  private static String markdown(ExperimentDefinition def, Experiment experiment, Experiment.Analysis analysis,
                                 Map<String, Double> metrics, ResultTable comparison, Verdict verdict,
                                 Map<String, Double> wall) {
    StringBuilder b = new StringBuilder();
    b.append("# ").append(def.title()).append("\n\n");
    b.append("Command: `./balloonlab experiment ").append(def.name())
        .append(def.reduced() ? " --vms " + def.vms() : "").append("`\n\n");
    b.append("**Verdict: ").append(verdict.outcome()).append("**\n\n");
    if (def.reduced()) {
      b.append("A reduced run: each run with its first ").append(def.vms()).append(" guests. The criteria were "
          + "written for the whole experiment; they are checked below but not judged.\n\n");
    }
    b.append("## The paper (Waldspurger, OSDI 2002)\n\n```\n").append(def.paper().strip()).append("\n```\n\n");
    if (!def.scaling().isBlank()) {
      b.append("## Scaling\n\n").append(def.scaling().strip()).append("\n\n");
    }
    b.append("## The paper beside BalloonLab\n\n").append(comparison.markdown()).append('\n');
    b.append("## Criteria (from experiment.yaml, written before the run)\n\n");
    verdict.checks().forEach(c -> b.append("- ").append(c).append('\n'));
    b.append('\n');
    for (ResultTable t : analysis.tables()) {
      b.append("## ").append(t.title()).append("\n\n").append(t.markdown()).append('\n');
    }
    b.append("## Metrics\n\n");
    List<List<String>> rows = new ArrayList<>();
    Map<String, String> meaning = new LinkedHashMap<>(experiment.metrics());
    meaning.putAll(COMMON_METRICS);
    metrics.forEach((k, v) -> rows.add(List.of(k, ResultTable.number(v), meaning.getOrDefault(k, ""))));
    b.append(new ResultTable("metrics", "Metrics", List.of("metric", "value", "meaning"), rows).markdown());
    b.append("\n## Runs (wall time on this machine; no result depends on it)\n\n");
    List<List<String>> runRows = new ArrayList<>();
    for (ExperimentDefinition.Run r : def.runs()) {
      Double w = wall.get(r.label());
      runRows.add(List.of(r.label(), def.dir().relativize(r.file()).toString(),
          w == null ? "-" : String.format(Locale.ROOT, "%.0f s", w)));
    }
    b.append(new ResultTable("runs", "Runs", List.of("run", "scenario", "wall time"), runRows).markdown());
    return b.toString();
  }
}
