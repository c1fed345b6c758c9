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
 */
public record ExperimentDefinition(String name, Path dir, String title, String paper, String scaling, List<Run> runs,
                                   List<Row> compare, List<Criterion> matches, List<Criterion> shape) {

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
  }
}
