package org.balloonlab.swap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * A swap device: one 8-byte slot per paged-out page (a frame's content is a 64-bit token) on a {@link SlotStore},
 * and a bitmap of used slots.
 *
 * <p>Slots are found next-fit from a cursor, so consecutive page-outs land in consecutive slots as a real
 * swap writer tries to arrange. Opened on a path, the device is a {@link SwapFile}: reserved on disk in full at
 * start (a full disk is a start-up error, {@link SwapReservationException}) and unlinked at once, so nothing is
 * left on disk when the process ends, even by SIGKILL.
 *
 * <p><b>Failures.</b> Should the storage fail later all the same (an I/O error), the operation throws a
 * {@link SwapIoException} saying whether a write or a read failed, and the device is <em>failed</em> from then
 * on: it takes no more page-outs ({@link #freeSlots()} is 0, {@link #pageOut} answers -1), so its owner stops
 * paging to it instead of failing again and again. Reads of slots written earlier are still tried: they are
 * the only way to get those pages back. A failed write leaves the bitmap as it was (the page was not stored); a
 * failed read leaves its slot in use, for its owner to release.
 *
 * <p>Not thread-safe: its owner (the machine, or a guest OS) serializes access.
 */
public final class SwapDevice implements AutoCloseable {
  private final Path file;
  private final SlotStore store;
  private final long[] usedBits;
  private final int slots;
  private int used;
  private int cursor;
  private SwapIoException failure;

  /**
   * A swap device on a new {@link SwapFile} at {@code file}, reserved and unlinked.
   *
   * @throws SwapReservationException if the file cannot be created or the disk has no room for it
   */
  public SwapDevice(Path file, int slots) {
    this(file, checkSlots(slots) > 0 ? SwapFile.reserve(file, slots) : null, slots);
  }

  /**
   * A swap device on {@code store}, which holds at least {@code slots} slots.
   *
   * @param file where the storage is, for messages
   */
  public SwapDevice(Path file, SlotStore store, int slots) {
    checkSlots(slots);
    this.file = file;
    this.store = store;
    this.slots = slots;
    this.usedBits = new long[(slots + 63) >>> 6];
  }

  private static int checkSlots(int slots) {
    if (slots <= 0) {
      throw new IllegalArgumentException("a swap device needs at least one slot, got " + slots);
    }
    return slots;
  }

  /** Where the device was opened (a swap file's name is unlinked at once, so it no longer exists). */
  public Path file() {
    return file;
  }

  public int slots() {
    return slots;
  }

  public int usedSlots() {
    return used;
  }

  /** Slots a page-out could use: none once the device has failed. */
  public int freeSlots() {
    return failure != null ? 0 : slots - used;
  }

  /** Whether the storage has failed: then the device takes no more page-outs. */
  public boolean failed() {
    return failure != null;
  }

  /** The first failure of the storage, or {@code null}. */
  public SwapIoException failure() {
    return failure;
  }

  /**
   * Writes a page's content to a free slot.
   *
   * @return the slot, or -1 when the swap is full or has failed
   * @throws SwapIoException if the storage fails now: the page was not stored, and the device is failed
   */
  public int pageOut(long token) {
    if (failure != null) {
      return -1;
    }
    int slot = findFreeSlot();
    if (slot < 0) {
      return -1;
    }
    try {
      store.write(slot, token);
    } catch (IOException e) {
      throw fail(SwapIoException.Operation.WRITE, slot, e);
    }
    usedBits[slot >>> 6] |= 1L << slot;
    used++;
    return slot;
  }

  /**
   * Reads a slot back and frees it.
   *
   * @throws SwapIoException if the storage fails: the page is lost, its slot stays in use, and the device is
   *     failed
   */
  public long pageIn(int slot) {
    long token = peek(slot);
    release(slot);
    return token;
  }

  /** Frees a slot without reading it, as when its VM is powered off. */
  public void release(int slot) {
    checkUsed(slot);
    usedBits[slot >>> 6] &= ~(1L << slot);
    used--;
  }

  /**
   * Reads a slot without freeing it.
   *
   * @throws SwapIoException if the storage fails; the device is failed
   */
  public long peek(int slot) {
    checkUsed(slot);
    try {
      return store.read(slot);
    } catch (IOException e) {
      throw fail(SwapIoException.Operation.READ, slot, e);
    }
  }

  private SwapIoException fail(SwapIoException.Operation operation, int slot, IOException cause) {
    SwapIoException e = new SwapIoException(operation, slot, String.valueOf(file), cause);
    if (failure == null) {
      failure = e;
    }
    return e;
  }

  private void checkUsed(int slot) {
    if (slot < 0 || slot >= slots || (usedBits[slot >>> 6] & (1L << slot)) == 0) {
      throw new IllegalStateException("swap slot " + slot + " is not in use");
    }
  }

  private int findFreeSlot() {
    if (used == slots) {
      return -1;
    }
    int words = usedBits.length;
    int word = cursor >>> 6;
    for (int n = 0; n <= words; n++, word = (word + 1) % words) {
      long free = ~usedBits[word];
      if (free != 0) {
        int slot = (word << 6) + Long.numberOfTrailingZeros(free);
        if (slot < slots) {
          cursor = slot + 1 < slots ? slot + 1 : 0;
          return slot;
        }
      }
    }
    return -1;
  }

  /** Gives the storage back; a swap file's space returns to the disk. */
  @Override
  public void close() {
    try {
      store.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close swap file " + file + ": " + e.getMessage(), e);
    }
  }
}
