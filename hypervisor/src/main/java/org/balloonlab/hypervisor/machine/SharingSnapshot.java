package org.balloonlab.hypervisor.machine;

/**
 * Page sharing across the machine at one instant.
 *
 * @param enabled whether sharing is on
 * @param sharedFrames frames that back shared pages (the zero frame included)
 * @param sharedReferences guest pages mapped to those frames
 * @param savedFrames frames sharing saves: {@code sharedReferences - sharedFrames}
 * @param hints hints in the table
 * @param cowBreaks writes to a shared page that gave the writer a private copy, since start
 * @param scannedPages pages the scanner looked at, since start
 * @param sharedBeforePageOut victim pages of hypervisor paging shared instead of written to host swap
 * @param collisions hash matches whose full comparison found other content
 * @param tableBytes heap bytes of the sharing table (slots and overflow)
 * @param tableSlots slots of the sharing table
 * @param zeroReferences guest pages mapped to the shared zero frame
 * @param hintsEvicted hints a new entry took the slot of because the table was at its cap, since start
 * @param shareScanNs simulated time the VMs' batches paid for the scanner's work on their pages, since start
 */
public record SharingSnapshot(boolean enabled, long sharedFrames, long sharedReferences, long savedFrames,
                              long hints, long cowBreaks, long scannedPages, long sharedBeforePageOut,
                              long collisions, long tableBytes, long tableSlots, long zeroReferences,
                              long hintsEvicted, long shareScanNs) {}
