package org.balloonlab.hypervisor.mmu;

/**
 * One VM's translation at one instant.
 *
 * @param shadowTableBytes hypervisor memory its shadow tables take now (0 in nested mode)
 * @param shadowEntries shadow entries set now
 * @param tlbInvalidations TLB entries dropped one by one because a mapping changed
 * @param translationTablePages table pages charged to the VM now: its guest-table copies and user shadow tables
 * @param translationTableLimitPages the most it may be charged (--max-translation-tables)
 */
public record MmuSnapshot(TranslationMode mode, MmuCounters counters, long shadowTableBytes, long shadowEntries,
                          long tlbInvalidations, long translationTablePages, long translationTableLimitPages) {}
