package org.balloonlab.hypervisor.machine;

import org.balloonlab.domain.DriverMode;
/**
 * A VM's balloon as the hypervisor saw it at one instant.
 *
 * @param lastContactNanosAgo time since the driver's last call, or -1 if it never called
 * @param uncooperative the driver made no progress toward its target within the stall timeout
 * @param requestedMode the mode an operator last asked for, or {@code null}
 */
public record BalloonSnapshot(long targetPages, long sizePages, boolean driverConnected, long sessionId,
                              long refusedPages, long lastContactNanosAgo, boolean uncooperative,
                              DriverMode requestedMode, long resets, long lockedTotal, long unlockedTotal) {}
