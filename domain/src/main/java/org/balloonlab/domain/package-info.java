/**
 * The vocabulary every BalloonLab module shares, each concept spelled once: balloon driver modes
 * ({@link org.balloonlab.domain.DriverMode}), the VM name rule ({@link org.balloonlab.domain.VmName}) and the
 * reclamation policies' names ({@link org.balloonlab.domain.PolicyNames}).
 *
 * <p>Plain Java: it may depend on {@code org.balloonlab.units} and the JDK, never on gRPC, the generated protos
 * or any other BalloonLab module, so every module (and every test) can use it.
 */
package org.balloonlab.domain;
