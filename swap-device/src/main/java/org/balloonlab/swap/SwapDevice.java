package org.balloonlab.swap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A swap device: a real file with one 8-byte slot per paged-out page (a frame's content is a
 * 64-bit token), and a bitmap of used slots.
 *
 * <p>Slots are found next-fit from a cursor, so consecutive page-outs land in consecutive slots as a real
 * swap writer tries to arrange. The file is sparse and removed when the swap is closed.
 * Not thread-safe: its owner (the machine, or a guest OS) serializes access.
 */
public final class SwapDevice implements AutoCloseable {
  private final Path file;
  private final FileChannel channel;
  private final long[] usedBits;
  private final int slots;
  private final ByteBuffer buffer = ByteBuffer.allocateDirect(Long.BYTES);
  private int used;
  private int cursor;

  public SwapDevice(Path file, int slots) {
    if (slots <= 0) {
      throw new IllegalArgumentException("a swap device needs at least one slot, got " + slots);
    }
    this.file = file;
    this.slots = slots;
    this.usedBits = new long[(slots + 63) >>> 6];
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open swap file " + file + ": " + e.getMessage(), e);
    }
  }

  public Path file() {
    return file;
  }

  public int slots() {
    return slots;
  }

  public int usedSlots() {
    return used;
  }

  public int freeSlots() {
    return slots - used;
  }

  /**
   * Writes a page's content to a free slot.
   *
   * @return the slot, or -1 when the swap is full
   */
  public int pageOut(long token) {
    int slot = findFreeSlot();
    if (slot < 0) {
      return -1;
    }
    buffer.clear();
    buffer.putLong(token).flip();
    try {
      while (buffer.hasRemaining()) {
        channel.write(buffer, (long) slot * Long.BYTES + (Long.BYTES - buffer.remaining()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("swap write to " + file + " failed: " + e.getMessage(), e);
    }
    usedBits[slot >>> 6] |= 1L << slot;
    used++;
    return slot;
  }

  /** Reads a slot back and frees it. */
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

  /** Reads a slot without freeing it. */
  public long peek(int slot) {
    checkUsed(slot);
    buffer.clear();
    try {
      while (buffer.hasRemaining()) {
        if (channel.read(buffer, (long) slot * Long.BYTES + buffer.position()) < 0) {
          throw new IOException("unexpected end of file at slot " + slot);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("swap read from " + file + " failed: " + e.getMessage(), e);
    }
    buffer.flip();
    return buffer.getLong();
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

  @Override
  public void close() {
    try {
      channel.close();
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove swap file " + file, e);
    }
  }
}
