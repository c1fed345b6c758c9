package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MachineMemoryTest {

  @Test
  void refusesAnEmptyMachine() {
    assertThrows(IllegalArgumentException.class, () -> new MachineMemory(0));
    assertThrows(IllegalArgumentException.class, () -> new MachineMemory(-3));
  }

  @Test
  void startsWithEveryFrameFree() {
    MachineMemory memory = new MachineMemory(5);
    assertEquals(5, memory.frames());
    assertEquals(5, memory.freeFrames());
    for (int mfn = 0; mfn < 5; mfn++) {
      assertEquals(MachineMemory.FREE, memory.owner(mfn));
    }
  }

  @Test
  void allocatesLowestFramesFirstAndRecordsTheOwner() {
    MachineMemory memory = new MachineMemory(4);
    assertEquals(0, memory.allocate(7));
    assertEquals(1, memory.allocate(7));
    assertEquals(2, memory.allocate(9));
    assertEquals(7, memory.owner(0));
    assertEquals(9, memory.owner(2));
    assertEquals(MachineMemory.FREE, memory.owner(3));
    assertEquals(1, memory.freeFrames());
    assertEquals(2, ownedBy(memory, 7));
    assertEquals(1, ownedBy(memory, 9));
    assertEquals(1, ownedBy(memory, MachineMemory.FREE));
  }

  private static int ownedBy(MachineMemory memory, int vmId) {
    int n = 0;
    for (int mfn = 0; mfn < memory.frames(); mfn++) {
      if (memory.owner(mfn) == vmId) {
        n++;
      }
    }
    return n;
  }

  @Test
  void answersMinusOneWhenFull() {
    MachineMemory memory = new MachineMemory(3);
    Set<Integer> taken = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      int mfn = memory.allocate(1);
      assertTrue(mfn >= 0 && mfn < 3, "MFN " + mfn);
      assertTrue(taken.add(mfn), "MFN " + mfn + " handed out twice");
    }
    assertEquals(-1, memory.allocate(1));
    assertEquals(0, memory.freeFrames());
  }

  @Test
  void freedFramesAreReusedLastInFirstOut() {
    MachineMemory memory = new MachineMemory(4);
    for (int i = 0; i < 4; i++) {
      memory.allocate(1);
    }
    memory.free(2);
    memory.free(0);
    assertEquals(2, memory.freeFrames());
    assertEquals(MachineMemory.FREE, memory.owner(2));
    assertEquals(0, memory.allocate(3));
    assertEquals(2, memory.allocate(3));
    assertEquals(3, memory.owner(0));
    assertEquals(-1, memory.allocate(3));
  }

  @Test
  void writesAndReadsTokensPerFrame() {
    MachineMemory memory = new MachineMemory(3);
    int a = memory.allocate(1);
    int b = memory.allocate(1);
    memory.write(a, Long.MIN_VALUE);
    memory.write(b, -1L);
    assertEquals(Long.MIN_VALUE, memory.read(a));
    assertEquals(-1L, memory.read(b));
  }

  @Test
  void refusesFramesForNoVmAndDoubleFrees() {
    MachineMemory memory = new MachineMemory(2);
    assertThrows(IllegalArgumentException.class, () -> memory.allocate(0));
    assertThrows(IllegalArgumentException.class, () -> memory.allocate(-1));
    assertEquals(2, memory.freeFrames());
    int mfn = memory.allocate(1);
    memory.free(mfn);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> memory.free(mfn));
    assertTrue(e.getMessage().contains("already free"), e.getMessage());
    assertEquals(2, memory.freeFrames());
    assertThrows(IllegalStateException.class, () -> memory.free(1));
  }

  /**
   * Measures what building a frame table allocates, per frame, instead of adding up the field sizes: a design
   * that gave each frame an object (a boxed {@code Long} content alone is 16 bytes plus a 4-byte reference) fails
   * here, not only in the heap benchmark. The count is the test thread's own allocation, so neither other threads
   * nor when the collector runs can change it.
   */
  @Test
  void sixteenBytesOfHeapPerFrame() {
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
        "this JVM does not count the bytes a thread allocates");
    int frames = 1 << 20;
    // Loads and initialises the class first, so only the table's own arrays are counted below.
    Reference.reachabilityFence(new MachineMemory(1));

    long before = threads.getCurrentThreadAllocatedBytes();
    MachineMemory memory = new MachineMemory(frames);
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    Reference.reachabilityFence(memory);

    double perFrame = (double) allocated / frames;
    assertEquals(16.0, perFrame, 1.0, "heap bytes allocated per frame (" + allocated + " for " + frames + ")");
    assertEquals(MachineMemory.heapBytesPerFrame(), Math.round(perFrame),
        "the per-frame figure the heap benchmark prints as the layout's prediction");
  }
}
