package org.balloonlab.swap;

import java.io.Closeable;
import java.io.IOException;

/**
 * What a {@link SwapDevice} keeps its slots on: one 8-byte token per slot. {@link SwapFile} is the real one, a file
 * reserved on disk; a test substitutes one that fails on demand, which is how a swap device's I/O failures are
 * tested without a broken disk.
 */
public interface SlotStore extends Closeable {
  /** Stores {@code token} in {@code slot}. */
  void write(int slot, long token) throws IOException;

  /** The token last written to {@code slot}. */
  long read(int slot) throws IOException;

  /** Gives the storage back (for a swap file: the space on disk). */
  @Override
  void close() throws IOException;
}
