package org.balloonlab.lab.experiment;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one experiment computes from its runs: the class beside its directory {@code experiments/NAME/}. It names
 * the runs it needs (the definition gives their scenarios) and the metrics it computes (the definition's criteria
 * and comparison rows may use those alone), and turns the runs' reports into the metrics, its tables and its plot.
 * It judges nothing: the verdict comes from the definition's criteria ({@link Verdict}).
 */
public interface Experiment {

  /**
   * What {@link #analyse} answers: named metrics, the tables beyond the comparison, the plot ({@code plot.png}) and
   * any further plots, by file name ({@code plot-mib.png}).
   */
  record Analysis(Map<String, Double> metrics, List<ResultTable> tables, ExperimentChart chart,
                  Map<String, ExperimentChart> morePlots) {
    public Analysis {
      metrics = Map.copyOf(metrics);
      tables = List.copyOf(tables);
      morePlots = Collections.unmodifiableMap(new LinkedHashMap<>(morePlots));
      for (String file : morePlots.keySet()) {
        if (!file.matches("plot-[a-z0-9-]+\\.png")) {
          throw new IllegalArgumentException("a further plot's file is named plot-NAME.png, not " + file);
        }
      }
    }

    /** An analysis with one plot. */
    public Analysis(Map<String, Double> metrics, List<ResultTable> tables, ExperimentChart chart) {
      this(metrics, tables, chart, Map.of());
    }
  }

  /** The experiment's directory name under {@code experiments/}, and its name on the command line. */
  String name();

  /** The label of the one run of an experiment that needs a single run. */
  String SINGLE_RUN = "lab";

  /** The labels of the runs it needs; the definition gives each a scenario. By default one, {@link #SINGLE_RUN}. */
  default List<String> runs() {
    return List.of(SINGLE_RUN);
  }

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

  /**
   * Whether the experiment can be run reduced ({@code balloonlab experiment NAME --vms N}): each run with its first
   * N guests, for a quick check of the mechanism; a reduced run is not judged against the paper.
   */
  default boolean reducible() {
    return false;
  }
}
