package org.balloonlab.hypervisor.machine;

/**
 * A balloon driver's session as opened.
 *
 * @param maxBatchPages most PFNs a lock or unlock of this session may carry
 * @param reply the target and state the driver starts from
 */
public record BalloonSession(long id, int maxBatchPages, BalloonReply reply) {}
