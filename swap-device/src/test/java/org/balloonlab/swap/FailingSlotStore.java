package org.balloonlab.swap;

import java.io.IOException;

/** A slot store in memory whose writes or reads fail on demand, as a disk that went bad would. */
final class FailingSlotStore implements SlotStore {
  private final long[] slots;
  boolean failWrites;
  boolean failReads;
  boolean closed;

  FailingSlotStore(int slots) {
    this.slots = new long[slots];
  }

  @Override
  public void write(int slot, long token) throws IOException {
    if (failWrites) {
      throw new IOException("Input/output error");
    }
    slots[slot] = token;
  }

  @Override
  public long read(int slot) throws IOException {
    if (failReads) {
      throw new IOException("Input/output error");
    }
    return slots[slot];
  }

  @Override
  public void close() {
    closed = true;
  }
}
