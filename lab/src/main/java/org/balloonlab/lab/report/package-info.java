/**
 * The files a run leaves in its folder: {@code report.json}, {@code timeseries.csv} of every sample, and the
 * memory and fault-rate plots.
 *
 * <p>May depend on Jackson and the JDK (Java2D draws the plots headless) only: the launcher hands it samples and
 * a JSON tree, so it knows nothing of gRPC, processes or scenarios.
 */
package org.balloonlab.lab.report;
