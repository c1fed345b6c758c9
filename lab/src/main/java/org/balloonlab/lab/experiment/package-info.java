/**
 * {@code balloonlab experiment}: the experiments of Waldspurger, OSDI 2002 that the model covers, each run by one
 * command from its definition under {@code experiments/NAME/} (its scenarios, the paper's numbers and the verdict's
 * criteria, written before it runs), each printing the paper's figure beside the simulator's and writing a table
 * (CSV and Markdown), a plot (PNG) and a verdict into a run folder.
 *
 * <p>An experiment is a directory and one small class: {@link org.balloonlab.lab.experiment.Experiment} turns
 * the runs' reports into named metrics and tables; {@link org.balloonlab.lab.experiment.Verdict} judges the
 * metrics against the definition's criteria; {@link org.balloonlab.lab.experiment.Experiments} lists the classes.
 */
package org.balloonlab.lab.experiment;
