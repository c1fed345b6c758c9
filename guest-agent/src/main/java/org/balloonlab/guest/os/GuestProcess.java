package org.balloonlab.guest.os;

import java.util.Arrays;

/**
 * A guest process: an address space id and a page table mapping its virtual pages to guest-physical pages.
 *
 * <p>The page table is a flat {@code int} array over the process's address space, which is as large as its
 * workload's footprint: one entry per VPN and no object per page. An entry is a PFN ({@code >= 0}),
 * {@link #UNMAPPED}, or a guest swap slot ({@code <= SWAPPED_BASE}, slot {@code SWAPPED_BASE - entry}). Beside
 * it, {@code versions} remembers how many times each page was written, from which the guest rebuilds the token a
 * read must return. A page never written holds zero, or, in a data set's region ({@code dataPages} pages from VPN 0),
 * the set's content token.
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
  /** The first of its file pages in the page cache, or -1 without files. */
  int fileBase = -1;
  int filePages;
  /** Its data set's name hash, and the pages at the start of its address space that hold the set. */
  int dataSetHash;
  int dataPages;

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

  /** Pages of file the process works on; 0 without files. */
  public int filePages() {
    return filePages;
  }

  public boolean exited() {
    return exited;
  }
}
