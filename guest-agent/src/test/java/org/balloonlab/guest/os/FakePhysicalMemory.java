package org.balloonlab.guest.os;

import java.util.ArrayList;
import java.util.List;
import org.balloonlab.domain.GuestStatus;

/**
 * Guest-physical memory for unit tests: a {@code long[]} indexed by PFN, no hypervisor. A read is compared at
 * once and mismatches go to the {@link PhysicalMemory.ReadChecker}. An optional {@link Corruption} rewrites
 * the values reads return, to play a broken hypervisor. Every call is counted.
 */
public final class FakePhysicalMemory implements PhysicalMemory {

  /** Rewrites what a read of {@code pfn} returns; {@code stored} is what the page holds. */
  @FunctionalInterface
  public interface Corruption {
    long apply(int pfn, long stored);
  }

  private final long[] pages;
  private final ReadChecker checker;
  private Corruption corruption = (pfn, stored) -> stored;
  private long hypervisorNs;

  public long writes;
  public long reads;
  public long swapOutCalls;
  public long swapOutPages;
  public long flushes;
  public long closes;
  public final List<GuestStatus> reports = new ArrayList<>();
  /** The PFNs written, in order, with their values: (pfn, value) pairs. */
  public final List<long[]> writeLog = new ArrayList<>();
  /**
   * Everything that concerns translation, in order: events as "MAP asid vpn pfn", the process's accesses as
   * "W asid vpn pfn" / "R asid vpn pfn", the kernel's as "KW pfn" / "KR pfn" / "KS pfn" (a swap-out read).
   */
  public final List<String> translationLog = new ArrayList<>();
  /** The PFNs of every readForSwapOut call, in order. */
  public final List<Integer> swapOutPfns = new ArrayList<>();

  public FakePhysicalMemory(int pages, ReadChecker checker) {
    this.pages = new long[pages];
    this.checker = checker;
  }

  public void corrupt(Corruption corruption) {
    this.corruption = corruption;
  }

  public void setHypervisorNs(long ns) {
    this.hypervisorNs = ns;
  }

  /** What page {@code pfn} holds, bypassing the corruption. */
  public long peek(int pfn) {
    return pages[pfn];
  }

  /** Overwrites page {@code pfn} behind the guest's back. */
  public void poke(int pfn, long value) {
    pages[pfn] = value;
  }

  public int size() {
    return pages.length;
  }

  @Override
  public void write(int asid, int vpn, int pfn, long token) {
    translationLog.add("W " + asid + " " + vpn + " " + pfn);
    store(pfn, token);
  }

  @Override
  public void read(int asid, int vpn, int pfn, long expected) {
    translationLog.add("R " + asid + " " + vpn + " " + pfn);
    load(pfn, expected);
  }

  @Override
  public void pageTableEvent(PageTableEvent event, int asid, int vpn, int pfn) {
    translationLog.add(event + " " + asid + " " + vpn + " " + pfn);
  }

  @Override
  public void write(int pfn, long token) {
    translationLog.add("KW " + pfn);
    store(pfn, token);
  }

  private void store(int pfn, long token) {
    pages[pfn] = token;
    writes++;
    writeLog.add(new long[] {pfn, token});
  }

  @Override
  public void read(int pfn, long expected) {
    translationLog.add("KR " + pfn);
    load(pfn, expected);
  }

  private void load(int pfn, long expected) {
    reads++;
    long actual = corruption.apply(pfn, pages[pfn]);
    if (actual != expected) {
      checker.mismatch(pfn, expected, actual);
    }
  }

  @Override
  public void readForSwapOut(int[] pfns, long[] expected, int count, long[] values) {
    swapOutCalls++;
    swapOutPages += count;
    for (int i = 0; i < count; i++) {
      swapOutPfns.add(pfns[i]);
      translationLog.add("KS " + pfns[i]);
      long actual = corruption.apply(pfns[i], pages[pfns[i]]);
      values[i] = actual;
      if (actual != expected[i]) {
        checker.mismatch(pfns[i], expected[i], actual);
      }
    }
  }

  @Override
  public void flush() {
    flushes++;
  }

  @Override
  public void report(GuestStatus status) {
    reports.add(status);
  }

  @Override
  public long hypervisorNs() {
    return hypervisorNs;
  }

  @Override
  public void close() {
    closes++;
  }
}
