package org.balloonlab.hypervisor.machine;

/**
 * How the hypervisor shares pages by content (docs/page-sharing.md). Rates are in pages per second of simulated
 * time: the scanner is driven by the lab clock (or, on a hypervisor that runs free, by the reclamation loop's
 * tick, each tick worth one policy period), never by the wall clock.
 *
 * @param enabled whether the scanner runs and copy-on-write sharing happens at all (off by default)
 * @param pagesPerVmPerSecond pages of each VM scanned per simulated second, 1..{@link #MAX_RATE}
 * @param maxPagesPerSecond pages scanned per simulated second across the machine, 1..{@link #MAX_RATE}; the VMs
 *     split it evenly when their own rates add up to more
 * @param shareBeforePaging whether hypervisor paging first tries to share a victim page whose content is already
 *     in the table, instead of writing it to host swap
 */
public record SharingSettings(boolean enabled, int pagesPerVmPerSecond, int maxPagesPerSecond,
                              boolean shareBeforePaging) {
  /** The highest rate accepted, pages a simulated second (4 GiB/s of 4 KiB pages). */
  public static final int MAX_RATE = 1 << 20;
  public static final int DEFAULT_PAGES_PER_VM_PER_SECOND = 2_000;
  public static final int DEFAULT_MAX_PAGES_PER_SECOND = 20_000;
  /** Sharing off: the default, so runs that do not ask for it are unchanged. */
  public static final SharingSettings OFF = new SharingSettings(false, DEFAULT_PAGES_PER_VM_PER_SECOND,
      DEFAULT_MAX_PAGES_PER_SECOND, true);
  /** Sharing on at the default rates. */
  public static final SharingSettings ON = OFF.withEnabled(true);

  public SharingSettings {
    if (pagesPerVmPerSecond < 1 || pagesPerVmPerSecond > MAX_RATE) {
      throw new IllegalArgumentException("the sharing scan rate per VM must be from 1 to " + MAX_RATE
          + " pages a second, got " + pagesPerVmPerSecond);
    }
    if (maxPagesPerSecond < 1 || maxPagesPerSecond > MAX_RATE) {
      throw new IllegalArgumentException("the machine-wide sharing scan rate must be from 1 to " + MAX_RATE
          + " pages a second, got " + maxPagesPerSecond);
    }
  }

  public SharingSettings withEnabled(boolean on) {
    return new SharingSettings(on, pagesPerVmPerSecond, maxPagesPerSecond, shareBeforePaging);
  }
}
