package org.balloonlab.lab.experiment;

import java.nio.file.Path;
import java.util.List;
import org.balloonlab.lab.scenario.Scenario;

/**
 * An experiment as its directory {@code experiments/NAME/} defines it, in {@code experiment.yaml}: what it
 * reproduces, the paper's figure as text, its runs (a scenario file each), the rows of the table that sets the
 * paper's numbers beside the simulator's, and the verdict's criteria, written before it runs. Read and checked by
 * {@link DefinitionParser}.
 *
 * @param name the directory's name
 * @param dir the directory
 * @param title one line
 * @param paper the paper's figure or text, as the definition quotes it (printed beside the simulator's)
 * @param scaling how the lab is scaled down from the paper's, and what is kept
 * @param runs the runs, in order
 * @param compare the comparison table's rows
 * @param matches criteria for "matches"
 * @param shape criteria for "matches in shape"
 * @param vms 0 for the experiment as defined; otherwise a reduced run ({@code --vms N}) of each run's first
 *     {@code vms} guests ({@link Scenario#firstGuests}), which is not judged against the paper
 */
public record ExperimentDefinition(String name, Path dir, String title, String paper, String scaling, List<Run> runs,
                                   List<Row> compare, List<Criterion> matches, List<Criterion> shape, int vms) {

  /**
   * One run.
   *
   * @param label its label, one the experiment's class asks for
   * @param file its scenario file
   * @param scenario the scenario, read and checked
   */
  public record Run(String label, Path file, Scenario scenario) {
  }

  /**
   * A row of the comparison table.
   *
   * @param quantity what is compared
   * @param paper the paper's value, as text
   * @param metric the metric that gives the simulator's value
   * @param unit the unit of both, or empty
   */
  public record Row(String quantity, String paper, String metric, String unit) {
  }

  public ExperimentDefinition {
    runs = List.copyOf(runs);
    compare = List.copyOf(compare);
    matches = List.copyOf(matches);
    shape = List.copyOf(shape);
    if (vms < 0) {
      throw new IllegalArgumentException("vms " + vms + " is negative");
    }
  }

  /** The experiment as its directory defines it. */
  public ExperimentDefinition(String name, Path dir, String title, String paper, String scaling, List<Run> runs,
                              List<Row> compare, List<Criterion> matches, List<Criterion> shape) {
    this(name, dir, title, paper, scaling, runs, compare, matches, shape, 0);
  }

  /** Whether this is a reduced run ({@code --vms}), which is not judged. */
  public boolean reduced() {
    return vms > 0;
  }

  /** The fewest guests any run has: the most a reduced run may keep. */
  public int fewestGuests() {
    return runs.stream().mapToInt(r -> r.scenario().guests().size()).min().orElse(0);
  }

  /**
   * A reduced run of this experiment: each run with its first {@code n} guests ({@link Scenario#firstGuests}).
   *
   * @throws IllegalArgumentException if {@code n} is not from 1 to {@link #fewestGuests}
   */
  public ExperimentDefinition reducedTo(int n) {
    if (n < 1 || n > fewestGuests()) {
      throw new IllegalArgumentException("a reduced run keeps 1 to " + fewestGuests() + " guests, not " + n);
    }
    List<Run> trimmed = runs.stream()
        .map(r -> new Run(r.label(), r.file(), r.scenario().firstGuests(n))).toList();
    return new ExperimentDefinition(name, dir, title, paper, scaling, trimmed, compare, matches, shape, n);
  }

  /** The run of that label. @throws IllegalArgumentException if there is none */
  public Run run(String label) {
    return runs.stream().filter(r -> r.label().equals(label)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no run labelled " + label));
  }
}
