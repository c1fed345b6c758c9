package org.balloonlab.benchmarks.balloon;

import java.nio.file.Path;
import java.util.Arrays;
import org.balloonlab.hypervisor.machine.BalloonPageStatus;
import org.balloonlab.hypervisor.machine.BalloonSession;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.time.CostModel;

/**
 * The profile part: where an inflation's time goes besides the wire. Two probes, each of one side's own cost per
 * balloon page, which the report sets against the Lock round trips the reclaim runs timed.
 *
 * @param vcpu the guest's side, or {@code null} when no reclaim run took the probe
 * @param machine the hypervisor's side
 */
record Profile(VcpuCost vcpu, MachineCost machine) {
  /**
   * The guest's side.
   *
   * @param hopNanos {@code Vcpu.onCpu} of nothing, back to back, sorted: what every allocation and free the
   *     driver asks for pays on top of the work
   * @param allocNsPerPage {@code GuestOs.allocateBalloonPages} on the vCPU, per page
   * @param freeNsPerPage {@code GuestOs.freeBalloonPages} on the vCPU, per page
   * @param batch pages per call
   */
  record VcpuCost(long[] hopNanos, double allocNsPerPage, double freeNsPerPage, int batch) {}

  /**
   * The hypervisor's side: a {@link Machine} in this JVM, called as the gRPC service calls it.
   *
   * @param lockNsPerPage {@code Machine.balloonLock}, per page
   * @param unlockNsPerPage {@code Machine.balloonUnlock}, per page
   * @param batch pages per call
   */
  record MachineCost(double lockNsPerPage, double unlockNsPerPage, int batch) {}

  /**
   * Measures the vCPU hop and the guest OS's own cost per balloon page, run on the vCPU as the driver's kernel
   * runs it.
   */
  static VcpuCost probeVcpu(BalloonGuest g) {
    int n = 400;
    long[] hop = new long[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      g.cpu().onCpu(() -> null);
      hop[i] = System.nanoTime() - t0;
    }
    int batch = 16384;
    int[] buf = new int[batch];
    long allocNs = 0;
    long freeNs = 0;
    long pagesDone = 0;
    for (int round = 0; round < 20; round++) {
      long[] t = g.cpu().onCpu(() -> {
        long a = System.nanoTime();
        int got = g.os().allocateBalloonPages(buf, batch);
        long b = System.nanoTime();
        g.os().freeBalloonPages(buf, got);
        long c = System.nanoTime();
        return new long[] {b - a, c - b, got};
      });
      // The first rounds compile the path; only the later ones count.
      if (round >= 10) {
        allocNs += t[0];
        freeNs += t[1];
        pagesDone += t[2];
      }
    }
    Arrays.sort(hop);
    return new VcpuCost(hop, (double) allocNs / pagesDone, (double) freeNs / pagesDone, batch);
  }

  /**
   * Measures the machine's own cost per page: a Machine in this JVM, a VM of {@code vmPages}, {@code pages} of its
   * never-touched pages locked and unlocked in batches of {@code batch} exactly as the gRPC service calls it; the
   * best of five rounds.
   */
  static MachineCost probeMachine(Path workDir, int vmPages, long pages, int batch) {
    // Frames enough to back the VM (the machine refuses a VM it could not back); only the P2M is touched.
    Machine machine = new Machine(new MachineConfig(vmPages, 16_384, workDir.resolve("probe-host.swap"), 16_384,
        CostModel.DEFAULT, 1, batch, MachineConfig.DEFAULT_BALLOON_STALL_NANOS));
    try {
      Vm vm = machine.powerOn("probe", "linux", vmPages);
      BalloonSession session = machine.openBalloonSession(vm, true, true, true);
      machine.setBalloonTarget(vm, pages);
      int[] pfns = new int[batch];
      BalloonPageStatus[] statuses = new BalloonPageStatus[batch];
      double lockNs = Double.MAX_VALUE;
      double unlockNs = Double.MAX_VALUE;
      for (int round = 0; round < 5; round++) {
        long t0 = System.nanoTime();
        for (long first = 0; first < pages; first += batch) {
          int k = fill(pfns, first, pages, batch, statuses);
          machine.balloonMove(vm, session.id(), 0, true, pfns, k, statuses);
        }
        long t1 = System.nanoTime();
        for (long first = 0; first < pages; first += batch) {
          int k = fill(pfns, first, pages, batch, statuses);
          machine.balloonMove(vm, session.id(), 0, false, pfns, k, statuses);
        }
        long t2 = System.nanoTime();
        // The best round: the machine's own cost, without the JIT or other processes' time slices in it.
        lockNs = Math.min(lockNs, (double) (t1 - t0) / pages);
        unlockNs = Math.min(unlockNs, (double) (t2 - t1) / pages);
      }
      return new MachineCost(lockNs, unlockNs, batch);
    } finally {
      machine.close();
    }
  }

  /** Fills {@code pfns} with the batch from {@code first} and clears the statuses; answers its size. */
  private static int fill(int[] pfns, long first, long pages, int batch, BalloonPageStatus[] statuses) {
    int k = (int) Math.min(batch, pages - first);
    for (int i = 0; i < k; i++) {
      pfns[i] = (int) (first + i);
    }
    Arrays.fill(statuses, null);
    return k;
  }
}
