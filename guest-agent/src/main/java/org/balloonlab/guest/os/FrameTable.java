package org.balloonlab.guest.os;

import java.util.Arrays;

/**
 * The guest OS's guest-physical pages: a free stack, a reverse map (PFN to owner and VPN) and an accessed bitmap,
 * in primitive arrays (4 + 4 + 4 bytes and one bit a page). The owner is an asid for a process page, or one of the
 * marks {@link GuestOs} and {@link PageCache} use (free, victim, balloon, kernel, cache). The fields are
 * package-private because the fault and reclaim loops read them on every step. Not thread-safe.
 */
final class FrameTable {
  static final int FREE = -1;

  final int[] freeStack;
  int freeCount;
  final int[] rmapAsid;
  final int[] rmapVpn;
  final long[] accessed;

  FrameTable(int pages) {
    freeStack = new int[pages];
    for (int i = 0; i < pages; i++) {
      freeStack[i] = pages - 1 - i;
    }
    freeCount = pages;
    rmapAsid = new int[pages];
    rmapVpn = new int[pages];
    Arrays.fill(rmapAsid, FREE);
    accessed = new long[(pages + 63) >>> 6];
  }

  /** Takes a free page; the caller has checked there is one. */
  int pop() {
    return freeStack[--freeCount];
  }

  /** Takes a free page and marks it {@code owner}/{@code vpn}. */
  int take(int owner, int vpn) {
    int pfn = freeStack[--freeCount];
    rmapAsid[pfn] = owner;
    rmapVpn[pfn] = vpn;
    return pfn;
  }

  /** Returns {@code pfn} to the free list with its accessed bit clear. */
  void free(int pfn) {
    rmapAsid[pfn] = FREE;
    accessed[pfn >>> 6] &= ~(1L << pfn);
    freeStack[freeCount++] = pfn;
  }

  void touch(int pfn) {
    accessed[pfn >>> 6] |= 1L << pfn;
  }

  /** Clears {@code pfn}'s accessed bit and says whether it was set: the clock's second chance. */
  boolean testAndClearAccessed(int pfn) {
    long bit = 1L << pfn;
    boolean was = (accessed[pfn >>> 6] & bit) != 0;
    accessed[pfn >>> 6] &= ~bit;
    return was;
  }
}
