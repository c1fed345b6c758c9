package org.balloonlab.lab.experiment;

import java.util.List;
import java.util.Map;

/**
 * What one experiment computes from its runs: the class beside its directory {@code experiments/NAME/}. It names
 * the runs it needs (the definition gives their scenarios) and the metrics it computes (the definition's criteria
 * and comparison rows may use those alone), and turns the runs' reports into the metrics, its tables and its plot.
 * It judges nothing: the verdict comes from the definition's criteria ({@link Verdict}).
 */
public interface Experiment {

  /** What {@link #analyse} answers: named metrics, the tables beyond the comparison, the plot. */
  record Analysis(Map<String, Double> metrics, List<ResultTable> tables, ExperimentChart chart) {
    public Analysis {
      metrics = Map.copyOf(metrics);
      tables = List.copyOf(tables);
    }
  }

  /** The experiment's directory name under {@code experiments/}, and its name on the command line. */
  String name();

  /** The labels of the runs it needs; the definition gives each a scenario. */
  List<String> runs();

  /** The metrics {@link #analyse} computes, with what each means (for {@code result.md}). */
  Map<String, String> metrics();

  /**
   * Computes the metrics (a metric it cannot compute, because a run did not get that far, is NaN), its tables
   * and its plot.
   *
   * @param def the definition (its scenarios give the VMs' settings and the schedule)
   * @param runs every run of {@link #runs}, by label
   */
  Analysis analyse(ExperimentDefinition def, Map<String, RunResult> runs);
}
