package org.balloonlab.hypervisor.policy;

/**
 * The machine-wide figures a reclamation policy decides from.
 *
 * @param frames machine memory in frames
 * @param freeFrames frames free now
 * @param state the free-memory state
 * @param targetFreeFrames free frames to aim for when reclaiming
 * @param hysteresisFrames the band kept between reclaiming and giving memory back
 */
public record MemoryPressure(long frames, long freeFrames, FreeMemoryState state, long targetFreeFrames,
                             long hysteresisFrames) {}
