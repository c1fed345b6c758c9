package org.balloonlab.benchmarks.dataplane;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.balloonlab.hypervisor.machine.AccessOps;
import org.balloonlab.hypervisor.machine.BatchResult;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.MachineMemory;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.time.CostModel;

/**
 * How much of the hypervisor's heap one simulated machine page costs: the figure that decides how large a machine
 * the simulator can hold, since a frame is a token in primitive arrays rather than 4 KiB of bytes.
 *
 * <p>Measured as the growth of used heap, each reading taken after a few {@link System#gc()} calls (run the
 * harness with the serial collector, as {@code JvmProcess} runs the hypervisor, so the reading is exact rather
 * than rounded to G1 regions). Two figures:
 * <ol>
 *   <li>after constructing the {@link Machine} alone: the frame table, frame contents, free stack and the host
 *       swap's slot bitmap;
 *   <li>after powering on VMs whose sizes add up to machine memory and touching every one of their pages with
 *       {@link Machine#applyBatch}, so each VM's P2M is full and every frame is owned: the machine as a fully
 *       committed lab uses it.
 * </ol>
 * Both are divided by the machine's frame count and printed beside what the data layout predicts, so a change
 * that adds per-page state shows up as a gap between the two.
 */
final class HeapFootprint {

  /**
   * What was measured.
   *
   * @param frames machine frames
   * @param hostSwapSlots host swap slots
   * @param vms VMs powered on for the second figure
   * @param vmPages their pages in all
   * @param machineBytes heap growth from constructing the machine
   * @param mappedBytes heap growth once the VMs' pages are all mapped, machine included
   */
  record Result(long frames, long hostSwapSlots, int vms, long vmPages, long machineBytes, long mappedBytes) {
    double machineBytesPerPage() {
      return (double) machineBytes / frames;
    }

    double mappedBytesPerPage() {
      return (double) mappedBytes / frames;
    }

    /** What the layout predicts for the machine alone: frame arrays and one bit per host swap slot. */
    double expectedMachineBytesPerPage() {
      return MachineMemory.heapBytesPerFrame() + hostSwapSlots / 8.0 / frames;
    }

    /** ... plus one {@code int} P2M entry per VM page. */
    double expectedMappedBytesPerPage() {
      return expectedMachineBytesPerPage() + (double) Integer.BYTES * vmPages / frames;
    }
  }

  private HeapFootprint() {}

  /**
   * Builds a machine of {@code frames} frames and as many host swap slots, then {@code vmCount} VMs adding up to
   * its memory, and measures both.
   *
   * @param batch accesses per batch when touching the VMs' pages
   * @param dir where the host swap file goes (it stays sparse: nothing is paged out)
   */
  static Result measure(int frames, int vmCount, int batch, Path dir) {
    // A throwaway machine first, so class loading, loggers and static state are not counted as per-page cost.
    try (Machine warm = new Machine(new MachineConfig(64, 64, dir.resolve("heap-warm.swap"), batch,
        CostModel.DEFAULT, 1))) {
      touchEveryPage(warm, warm.powerOn("heap-warm", "linux", 64), batch);
      warm.snapshot();
    }
    long before = usedHeapAfterGc();
    Machine machine = new Machine(new MachineConfig(frames, frames, dir.resolve("heap-footprint.swap"), batch,
        CostModel.DEFAULT, 1));
    try {
      long afterMachine = usedHeapAfterGc();
      List<Vm> vms = new ArrayList<>(vmCount);
      long vmPages = 0;
      for (int i = 0; i < vmCount; i++) {
        int pages = frames / vmCount + (i < frames % vmCount ? 1 : 0);
        Vm vm = machine.powerOn("heap-" + i, "linux", pages);
        touchEveryPage(machine, vm, batch);
        vms.add(vm);
        vmPages += pages;
      }
      long free = machine.snapshot().freeFrames();
      if (free != 0) {
        throw new IllegalStateException("touching every page of the VMs left " + free + " frames free");
      }
      long afterMapped = usedHeapAfterGc();
      Reference.reachabilityFence(vms);
      Reference.reachabilityFence(machine);
      return new Result(frames, frames, vmCount, vmPages, afterMachine - before, afterMapped - before);
    } finally {
      machine.close();
    }
  }

  /** Writes every page of {@code vm} once, in batches: each write is a demand-zero fault that maps a frame. */
  private static void touchEveryPage(Machine machine, Vm vm, int batch) {
    byte[] ops = new byte[batch];
    Arrays.fill(ops, AccessOps.WRITE);
    int[] pfns = new int[batch];
    long[] values = new long[batch];
    long[] reads = new long[batch];
    BatchResult result = new BatchResult();
    int pages = vm.memoryPages();
    for (int first = 0; first < pages; first += batch) {
      int n = Math.min(batch, pages - first);
      for (int i = 0; i < n; i++) {
        pfns[i] = first + i;
        values[i] = ((long) vm.id() << 32) | (first + i);
      }
      machine.validateBatch(vm, n, ops, pfns, n);
      machine.applyBatch(vm, n, ops, pfns, values, reads, result);
    }
  }

  private static long usedHeapAfterGc() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
