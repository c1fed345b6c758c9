/**
 * The balloon benchmark ({@code benchmarks/run-balloon}): how fast the balloon reclaims a guest's idle memory end
 * to end, and how soon the driver reacts to a new target.
 *
 * <p>{@link org.balloonlab.benchmarks.balloon.BalloonBenchmark} is the command and {@code BalloonOptions} what it
 * is asked; {@code BalloonHarness} holds the hypervisor JVM, the operator's channel ({@code Operator}) and the
 * guests, each a {@code BalloonGuest} wired as the guest agent wires one, with pass-through wrappers around the
 * driver's host and kernel that time them. The parts that measure are {@code ReclaimRun}, {@code LatencyRun} and
 * {@code Profile}; {@code BalloonReport} prints what they found.
 */
package org.balloonlab.benchmarks.balloon;
