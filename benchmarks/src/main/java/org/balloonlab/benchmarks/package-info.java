/**
 * What both benchmark harnesses share: {@link org.balloonlab.benchmarks.BenchmarkCommand} (their command-line
 * conventions, option checks, exit codes and work directory), {@link org.balloonlab.benchmarks.HypervisorJvm}
 * (the hypervisor in a JVM of its own, as a lab starts it), {@link org.balloonlab.benchmarks.FigureTable} (the
 * table of figures, targets and verdicts they print), the CPU clock they print beside wall-clock rates and the
 * {@link org.balloonlab.benchmarks.Medians median} they report repeated figures by.
 *
 * <p>The harnesses themselves live in {@link org.balloonlab.benchmarks.dataplane} ({@code benchmarks/run}) and
 * {@link org.balloonlab.benchmarks.balloon} ({@code benchmarks/run-balloon}). They time things; tests never do.
 */
package org.balloonlab.benchmarks;
