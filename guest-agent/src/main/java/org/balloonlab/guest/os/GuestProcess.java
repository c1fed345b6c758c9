package org.balloonlab.guest.os;

import java.util.Arrays;

/**
 * A guest process: an address space id and a page table mapping its virtual pages to guest-physical pages.
 *
 * <p>The page table is a flat {@code int} array over the process's address space, which is as large as its
 * workload's footprint: one entry per VPN and no object per page. An entry is a PFN ({@code >= 0}),
 * {@link #UNMAPPED}, or a guest swap slot ({@code <= SWAPPED_BASE}, slot {@code SWAPPED_BASE - entry}). Beside
 * it, {@code versions} remembers how many times each page was written, from which the guest rebuilds the token a
 * read must return.
 */
public final class GuestProcess {
  static final int UNMAPPED = -1;
  static final int SWAPPED_BASE = -2;

  private final int asid;
  private final String name;
  final int[] pageTable;
  final char[] versions;
  long residentPages;
  boolean exited;

  GuestProcess(int asid, String name, int virtualPages) {
    this.asid = asid;
    this.name = name;
    this.pageTable = new int[virtualPages];
    this.versions = new char[virtualPages];
    Arrays.fill(pageTable, UNMAPPED);
  }

  public int asid() {
    return asid;
  }

  public String name() {
    return name;
  }

  public long residentPages() {
    return residentPages;
  }

  public boolean exited() {
    return exited;
  }
}
