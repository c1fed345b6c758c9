/**
 * The balloon driver itself: the worker's round ({@link org.balloonlab.balloon.driver.BalloonDriver}), the
 * mechanisms it is made of (inflation, deflation and deflate-on-OOM, the fault-injection modes, the shared
 * state and counters) and its plain-Java view of the hypervisor's balloon service
 * ({@link org.balloonlab.balloon.driver.BalloonHost}).
 *
 * <p>Plain Java: it may depend on the domain module (driver modes, the guest kernel interface), SLF4J and the JDK,
 * never on gRPC or the generated protos, so it is tested against fakes of the kernel, the hypervisor and the
 * clock.
 */
package org.balloonlab.balloon.driver;
