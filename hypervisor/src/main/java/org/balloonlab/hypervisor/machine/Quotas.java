package org.balloonlab.hypervisor.machine;

/**
 * The limits that keep one guest, or one lab member, from starving the others ({@code docs/design.md}, "Quotas"):
 * how many VMs may be on at once, how much memory they may be configured with in total, and how many pages of
 * translation tables (the hypervisor's copy of each guest page table, and the shadow tables in shadow mode) each
 * VM may make the hypervisor hold. Admission control adds a fourth bound that needs no setting: every VM reserves
 * {@code memory - min} pages of host swap at power-on.
 *
 * <p><b>Why translation tables are charged.</b> Page-table events and accesses name (address space, VPN) pairs the
 * guest chooses; each new pair may allocate up to three 4 KiB table pages of a 4-level radix table (more with a
 * new address space), in the guest-table copy and again in the shadow table. A guest that maps sparse VPNs across
 * 4,096 address spaces could otherwise fill the hypervisor's heap in seconds. The default,
 * {@value #DEFAULT_TRANSLATION_TABLE_PAGES} table pages (8 MiB of modelled tables), covers a guest-table copy mapping
 * just under 4 GiB densely in nested mode (512 leaves a GiB, plus a few directory pages), or the copy and the
 * shadow of just under 2 GiB in shadow mode. The simulator stores a table page as an {@code int[512]} or a
 * 512-reference array, about 2 KiB of heap, so 64 VMs at the limit hold 64 x 2,048 x 2 KiB = 256 MiB: a third of
 * the launcher's default 768 MiB hypervisor heap.
 *
 * @param maxVms most VMs powered on at once
 * @param maxConfiguredPages most memory, in pages, the powered-on VMs may be configured with in total
 * @param maxTranslationTablePages most translation-table pages one VM may make the hypervisor hold
 */
public record Quotas(int maxVms, long maxConfiguredPages, long maxTranslationTablePages) {
  /** Default VM count: a classroom lab with room to spare. */
  public static final int DEFAULT_MAX_VMS = 64;
  /** Default total configured memory, as a multiple of machine memory: 4x, the overcommit ESX labs stay under. */
  public static final int DEFAULT_OVERCOMMIT = 4;
  /** Default translation-table budget per VM, in 4 KiB table pages (8 MiB). */
  public static final long DEFAULT_TRANSLATION_TABLE_PAGES = 2048;
  /** Ceiling of the VM count a hypervisor accepts. */
  public static final int MAX_VMS_LIMIT = 100_000;

  public Quotas {
    if (maxVms <= 0 || maxVms > MAX_VMS_LIMIT) {
      throw new IllegalArgumentException("the VM limit must be from 1 to " + MAX_VMS_LIMIT + ", got " + maxVms);
    }
    if (maxConfiguredPages <= 0) {
      throw new IllegalArgumentException("the configured-memory limit must be positive, got " + maxConfiguredPages
          + " pages");
    }
    if (maxTranslationTablePages < 16) {
      // A VM needs a few table pages to run at all: a root and one path of three levels per table.
      throw new IllegalArgumentException("the translation-table limit must be at least 16 pages, got "
          + maxTranslationTablePages);
    }
  }

  /** The defaults for a machine of {@code frames} frames. */
  public static Quotas defaults(int frames) {
    return new Quotas(DEFAULT_MAX_VMS, (long) DEFAULT_OVERCOMMIT * frames, DEFAULT_TRANSLATION_TABLE_PAGES);
  }
}
