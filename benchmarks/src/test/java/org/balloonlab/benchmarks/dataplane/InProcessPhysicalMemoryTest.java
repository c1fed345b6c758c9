package org.balloonlab.benchmarks.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.time.CostModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-process backing must check reads as the remote one does, or the benchmark's in-process figure would
 * compare a data plane that checks nothing with one that checks everything.
 */
class InProcessPhysicalMemoryTest {
  private static final int BATCH = 8;

  @TempDir
  Path dir;

  private Machine machine;
  private Vm vm;
  private final List<long[]> mismatches = new ArrayList<>();
  private InProcessPhysicalMemory memory;

  @BeforeEach
  void powerOn() {
    machine = new Machine(new MachineConfig(256, 256, dir.resolve("host.swap"), 64, CostModel.DEFAULT, 1));
    vm = machine.powerOn("vm", "linux", 128);
    memory = new InProcessPhysicalMemory(machine, vm, BATCH,
        (pfn, expected, actual) -> mismatches.add(new long[] {pfn, expected, actual}));
  }

  @AfterEach
  void close() {
    machine.close();
  }

  @Test
  void readsReturnWhatWasWrittenAcrossBatches() {
    for (int pfn = 0; pfn < 100; pfn++) {
      memory.write(pfn, 1_000 + pfn);
    }
    for (int pfn = 0; pfn < 100; pfn++) {
      memory.read(pfn, 1_000 + pfn);
    }
    memory.read(120, 0L); // never written: a demand-zero page
    memory.flush();

    assertTrue(mismatches.isEmpty(), "no read may mismatch");
    assertEquals((201 + BATCH - 1) / BATCH, memory.batches());
    assertTrue(memory.hypervisorNs() > 0, "the demand-zero faults are charged");
  }

  @Test
  void aReadThatDiffersIsReported() {
    memory.write(3, 42);
    memory.read(3, 41);
    memory.flush();

    assertEquals(1, mismatches.size());
    assertArrayEquals(new long[] {3, 41, 42}, mismatches.get(0));
  }

  @Test
  void swapOutReadsAnswerInOrderAfterWhatWasQueued() {
    int n = 20;
    int[] pfns = new int[n];
    long[] expected = new long[n];
    for (int i = 0; i < n; i++) {
      pfns[i] = 50 + i;
      expected[i] = 7_000 + i;
      memory.write(pfns[i], expected[i]);
    }
    long[] values = new long[n];

    memory.readForSwapOut(pfns, expected, n, values);

    assertArrayEquals(expected, values);
    assertTrue(mismatches.isEmpty());
  }

  @Test
  void aBatchLargerThanTheMachineAllowsIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new InProcessPhysicalMemory(machine, vm, 65, (p, e, a) -> {}));
  }
}
