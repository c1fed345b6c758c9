/**
 * The driver's transport edge: {@link org.balloonlab.balloon.driver.BalloonHost} over the private gRPC channel
 * to the hypervisor's {@code BalloonService}, with messages translated in one place and statuses mapped to
 * {@link org.balloonlab.balloon.driver.BalloonHostException} in another.
 *
 * <p>May depend on the driver package, the domain module, the generated protos and gRPC; the driver package
 * never depends on it.
 */
package org.balloonlab.balloon.grpc;
