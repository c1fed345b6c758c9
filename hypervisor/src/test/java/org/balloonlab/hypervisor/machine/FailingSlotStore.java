package org.balloonlab.hypervisor.machine;

import java.io.IOException;
import org.balloonlab.swap.SlotStore;

/** Host swap storage in memory whose writes or reads fail on demand, as a disk that went bad would. */
final class FailingSlotStore implements SlotStore {
  private final long[] slots;
  boolean failWrites;
  boolean failReads;
  int writes;
  int reads;

  FailingSlotStore(int slots) {
    this.slots = new long[slots];
  }

  @Override
  public void write(int slot, long token) throws IOException {
    writes++;
    if (failWrites) {
      throw new IOException("Input/output error");
    }
    slots[slot] = token;
  }

  @Override
  public long read(int slot) throws IOException {
    reads++;
    if (failReads) {
      throw new IOException("Input/output error");
    }
    return slots[slot];
  }

  @Override
  public void close() {
  }
}
