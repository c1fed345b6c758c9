package org.balloonlab.hypervisor.machine;

/**
 * Page sharing of one VM at one instant.
 *
 * @param sharedPages its pages mapped to a shared frame
 * @param savedPages frames it saves: its shared pages minus its charge for them (each shared page is charged
 *     the machine's frames per reference, its average 1/refcount; see docs/page-sharing.md)
 * @param hints its pages recorded as hints in the table
 * @param cowBreaks its writes to a shared page, each of which gave it a private copy
 * @param scannedPages its pages the scanner looked at
 * @param sharedBeforePageOut its pages shared instead of paged out by the hypervisor
 * @param shareScanNs simulated time its batches paid for the scanner's work on its pages (scanned pages times
 *     {@code share-scan}; the pages scanned since its last batch are paid by its next)
 */
public record VmSharing(long sharedPages, long savedPages, long hints, long cowBreaks, long scannedPages,
                        long sharedBeforePageOut, long shareScanNs) {

  /** The counts as they run, bumped by {@link PageSharing} under the machine's lock. */
  static final class Live {
    long sharedPages;
    long hints;
    long cowBreaks;
    long scanned;
    long sharedBeforePageOut;
    /** The scanner's work on its pages not yet paid: its next batch pays it. */
    long scanPendingNs;
    /** The scanner's work its batches paid. */
    long scanPaidNs;
    /** Scanner time of its last progress event, and its shared pages and breaks then ({@link SharingEvents}). */
    long progressAtNs = Long.MIN_VALUE;
    long progressSharedPages;
    long progressCowBreaks;
  }
}
