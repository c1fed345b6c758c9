package org.balloonlab.hypervisor.machine;

import org.balloonlab.domain.DriverMode;
/**
 * What every reply to a balloon driver carries.
 *
 * @param reset the driver must drop its balloon without telling the hypervisor and start a new session
 * @param requestedMode the mode an operator asked for, or {@code null}
 */
public record BalloonReply(long targetPages, boolean reset, DriverMode requestedMode) {}
