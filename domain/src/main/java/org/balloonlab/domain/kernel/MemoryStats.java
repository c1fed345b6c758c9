package org.balloonlab.domain.kernel;

/** Guest memory statistics as virtio-balloon reports them; sizes in pages, events as running counts. */
public record MemoryStats(long swapIn, long swapOut, long majorFaults, long minorFaults, long freePages,
                          long totalPages, long availablePages) {}
