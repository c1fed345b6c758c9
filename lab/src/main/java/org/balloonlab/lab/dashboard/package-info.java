/**
 * The live web dashboard ({@code balloonlab dashboard}, {@code balloonlab run --dashboard}): a small HTTP server
 * (the JDK's {@code com.sun.net.httpserver}) that shows one page with the machine's state, a stacked memory chart
 * per VM (uPlot, served from its WebJar inside the jar), the event stream, and the operator's control actions.
 *
 * <p>{@link org.balloonlab.lab.dashboard.LabFeed} follows the hypervisor through the management API and keeps a
 * bounded history; {@link org.balloonlab.lab.dashboard.DashboardAuth} guards the page (a session from a one-time
 * sign-in address or the operator token, same-origin and per-session checks against cross-site requests);
 * {@link org.balloonlab.lab.dashboard.DashboardControl} validates and applies the control actions;
 * {@link org.balloonlab.lab.dashboard.DashboardServer} routes requests to them.
 */
package org.balloonlab.lab.dashboard;
