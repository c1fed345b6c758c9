package org.balloonlab.benchmarks.balloon;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.benchmarks.HypervisorJvm;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.transport.Channels;

/**
 * What every part of a balloon run measures against: the hypervisor in its own JVM, the {@link Operator} on a
 * channel of its own, and the guests booted on it, one at a time, each audited when its part is done.
 *
 * <p>{@link #close()} stops what is left (guests, then the channel, then the hypervisor) whether the run ended
 * or failed; {@link #cut()} is for a shutdown hook, which must not wait on the guests' threads.
 */
final class BalloonHarness implements AutoCloseable {
  /** The guests' data plane as the benchmark sets it: batch, window, vCPU time slice. */
  private static final int DATA_BATCH = 16384;
  private static final int DATA_WINDOW = 4;
  private static final int SLICE_ACCESSES = 10_000;

  private final BalloonOptions options;
  private final int vmPages;
  private final WorkloadSpec workload;
  private final Path workDir;
  private final Consumer<String> progress;
  private final HypervisorJvm hypervisor;
  private final ManagedChannel managementChannel;
  private final Operator operator;
  private final List<BalloonGuest> liveGuests = new CopyOnWriteArrayList<>();
  private final List<BalloonGuest.Audit> audits = new ArrayList<>();

  private BalloonHarness(BalloonOptions options, int vmPages, WorkloadSpec workload, Path workDir,
                         Consumer<String> progress, HypervisorJvm hypervisor) {
    this.options = options;
    this.vmPages = vmPages;
    this.workload = workload;
    this.workDir = workDir;
    this.progress = progress;
    this.hypervisor = hypervisor;
    this.managementChannel = Channels.builder(hypervisor.target(), hypervisor.operatorSecurity()).build();
    this.operator = new Operator(managementChannel);
  }

  /**
   * Starts the hypervisor JVM with the machine {@code options} ask for and opens the operator's channel.
   *
   * @param vmPages each guest's memory
   * @param workload what each guest runs
   * @param workDir where the hypervisor's log and every swap file go
   */
  static BalloonHarness start(BalloonOptions options, int vmPages, WorkloadSpec workload, Path workDir,
                              Consumer<String> progress) throws IOException, InterruptedException {
    // The balloon's rates are wall-clock figures of a driver on its own thread, so the hypervisor runs free.
    HypervisorJvm hypervisor = HypervisorJvm.start(List.of("--lab-clock", "free", "--memory",
        options.machineMemory.toString(), "--max-batch", "16384", "--balloon-batch", Integer.toString(options.hypervisorBalloonBatch),
        "--host-swap", "1GiB", "--host-swap-file", workDir.resolve("host.swap").toString()),
        options.hypervisorHeap, workDir, Duration.ofSeconds(60));
    progress.accept("hypervisor JVM (pid " + hypervisor.pid() + ", " + options.machineMemory + ", --balloon-batch "
        + options.hypervisorBalloonBatch + ") listening on " + hypervisor.target());
    return new BalloonHarness(options, vmPages, workload, workDir, progress, hypervisor);
  }

  Operator operator() {
    return operator;
  }

  /** CPU time the hypervisor's JVM has used so far, or -1 where the platform does not say. */
  long hypervisorCpuNanos() {
    return hypervisor.cpuNanos();
  }

  /**
   * Powers a guest on and waits until its workload has touched its footprint and its driver is ready.
   *
   * @param doorbell whether the driver may use the doorbell; without it, it only polls
   */
  BalloonGuest boot(String name, BalloonDriver.Config config, boolean doorbell) throws InterruptedException {
    BalloonGuest g = BalloonGuest.start(hypervisor.target(), hypervisor.guestSecurity(), name, vmPages, workload,
        workDir.resolve(name + ".swap"), config, doorbell, DATA_BATCH, DATA_WINDOW, SLICE_ACCESSES, options.seed);
    liveGuests.add(g);
    g.awaitReady(options.timeout, doorbell);
    return g;
  }

  /** Stops the guest, audits it (see {@link BalloonGuest#finish}) and keeps the audit for the report. */
  void audit(BalloonGuest g) throws InterruptedException {
    BalloonGuest.Audit a = g.finish(operator::getVm);
    audits.add(a);
    if (a.violations() > 0 || a.balloonInconsistencies() > 0) {
      progress.accept("  AUDIT FAILED: " + a);
    }
  }

  /** Releases a guest whose part is over, audited or not. */
  void release(BalloonGuest g) {
    g.close();
    liveGuests.remove(g);
  }

  /** Every guest's audit so far, in the order they were taken. */
  List<BalloonGuest.Audit> audits() {
    return Collections.unmodifiableList(audits);
  }

  /** Releases the guests left, closes the operator's channel and stops the hypervisor. */
  @Override
  public void close() throws InterruptedException {
    for (BalloonGuest g : liveGuests) {
      g.close();
    }
    liveGuests.clear();
    managementChannel.shutdownNow();
    managementChannel.awaitTermination(5, TimeUnit.SECONDS);
    hypervisor.close();
  }

  /** For a shutdown hook: cuts every channel at once and stops the hypervisor, without waiting on the guests. */
  void cut() {
    for (BalloonGuest g : liveGuests) {
      g.shutdownChannels();
    }
    managementChannel.shutdownNow();
    try {
      hypervisor.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
