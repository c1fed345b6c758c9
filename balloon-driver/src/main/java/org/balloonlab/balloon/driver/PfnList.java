package org.balloonlab.balloon.driver;

import java.util.Arrays;

/**
 * A growable list of PFNs in a primitive array. The balloon can hold millions of pages; boxing each one into an
 * {@code Integer} would cost several times the memory of the pages' numbers and churn the collector on every
 * batch, so the driver keeps its page lists here. Not thread-safe: the owner guards it.
 */
final class PfnList {
  private int[] pfns;
  private int size;

  PfnList() {
    this(64);
  }

  PfnList(int initialCapacity) {
    pfns = new int[Math.max(1, initialCapacity)];
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  void add(int pfn) {
    if (size == pfns.length) {
      grow(size + 1);
    }
    pfns[size++] = pfn;
  }

  /** Appends {@code from[0..count)}. */
  void addAll(int[] from, int count) {
    if (size + count > pfns.length) {
      grow(size + count);
    }
    System.arraycopy(from, 0, pfns, size, count);
    size += count;
  }

  /**
   * Moves up to {@code count} PFNs from the end of the list into {@code out[0..)}.
   *
   * @return how many were moved
   */
  int removeLast(int[] out, int count) {
    int n = Math.min(count, size);
    System.arraycopy(pfns, size - n, out, 0, n);
    size -= n;
    return n;
  }

  /** A copy of the PFNs, in order. */
  int[] toArray() {
    return Arrays.copyOf(pfns, size);
  }

  /** The backing array; valid from 0 to {@link #size()} until the list is next changed. */
  int[] array() {
    return pfns;
  }

  void clear() {
    size = 0;
  }

  private void grow(int minCapacity) {
    pfns = Arrays.copyOf(pfns, Math.max(minCapacity, pfns.length * 2));
  }
}
