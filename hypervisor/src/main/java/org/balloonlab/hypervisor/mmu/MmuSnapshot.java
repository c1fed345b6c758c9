package org.balloonlab.hypervisor.mmu;

/**
 * One VM's translation at one instant.
 *
 * @param shadowTableBytes hypervisor memory its shadow tables take now (0 in nested mode)
 * @param shadowEntries shadow entries set now
 * @param tlbInvalidations TLB entries dropped one by one because a mapping changed
 */
public record MmuSnapshot(TranslationMode mode, MmuCounters counters, long shadowTableBytes, long shadowEntries,
                          long tlbInvalidations) {}
