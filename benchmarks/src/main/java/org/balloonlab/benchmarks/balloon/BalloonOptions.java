package org.balloonlab.benchmarks.balloon;

import java.time.Duration;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine.Option;

/**
 * What a balloon benchmark run is asked to measure: the machine and each guest, the balloon target and the driver's
 * settings, how often to repeat and how to observe the balloon. {@link BalloonBenchmark} mixes these options in
 * and checks them; the parts that measure read them.
 */
final class BalloonOptions {
  @Option(names = "--machine-memory", paramLabel = "SIZE", defaultValue = "8GiB",
      description = "The hypervisor's machine memory (default: ${DEFAULT-VALUE}).")
  MemorySize machineMemory;

  @Option(names = "--vm-memory", paramLabel = "SIZE", defaultValue = "6GiB",
      description = "Each guest's memory (default: ${DEFAULT-VALUE}).")
  MemorySize vmMemory;

  @Option(names = "--footprint", paramLabel = "SIZE", defaultValue = "256MiB",
      description = "What the idle process writes once before it sleeps (default: ${DEFAULT-VALUE}).")
  MemorySize footprint;

  @Option(names = "--target", paramLabel = "SIZE", defaultValue = "4GiB",
      description = "The balloon target of the reclaim runs (default: ${DEFAULT-VALUE}).")
  MemorySize target;

  @Option(names = "--batches", paramLabel = "N", split = ",", defaultValue = "512,16384",
      description = "Driver batch sizes (pages per Lock) of the reclaim runs, comma-separated "
          + "(default: ${DEFAULT-VALUE}; the driver's default is " + BalloonDriver.Config.DEFAULT_BATCH_PAGES + ").")
  int[] batches;

  @Option(names = "--hypervisor-balloon-batch", paramLabel = "N", defaultValue = "65536",
      description = "The hypervisor's --balloon-batch, the most pages it lets a driver lock at once "
          + "(default: ${DEFAULT-VALUE}; its own default is 512).")
  int hypervisorBalloonBatch;

  @Option(names = "--cap", paramLabel = "FRACTION", defaultValue = "0.9",
      description = "The driver's balloon cap, a share of guest memory; must allow --target "
          + "(default: ${DEFAULT-VALUE}; the driver's default is 0.65).")
  double cap;

  @Option(names = "--poll", paramLabel = "DURATION", defaultValue = "1s",
      description = "The driver's poll interval (default: ${DEFAULT-VALUE}, the driver's default).")
  Duration poll;

  @Option(names = "--repeats", paramLabel = "N", defaultValue = "5",
      description = "Timed inflations (each followed by a timed deflation) per batch size (default: "
          + "${DEFAULT-VALUE}).")
  int repeats;

  @Option(names = "--warmup-target", paramLabel = "SIZE", defaultValue = "4GiB",
      description = "Untimed inflation and deflation before the timed ones, per batch size; 0 for none "
          + "(default: ${DEFAULT-VALUE}).")
  MemorySize warmupTarget;

  @Option(names = "--latency-reps", paramLabel = "N", defaultValue = "10",
      description = "Target changes timed with the doorbell and again with polling alone (default: "
          + "${DEFAULT-VALUE}).")
  int latencyReps;

  @Option(names = "--latency-step", paramLabel = "PAGES", defaultValue = "1",
      description = "Pages each target change adds (default: ${DEFAULT-VALUE}).")
  int latencyStep;

  @Option(names = "--observer", paramLabel = "HOW", defaultValue = "driver",
      description = "How the balloon's growth is observed: driver (in process, the instant the driver's Lock reply "
          + "arrives; no polling) or getvm (GetVm every millisecond, the hypervisor's balloon.size_pages; coarser "
          + "and it loads the 2 cores with RPCs) (default: ${DEFAULT-VALUE}).")
  String observer;

  @Option(names = "--hypervisor-heap", paramLabel = "SIZE", defaultValue = "512m",
      description = "-Xmx of the hypervisor child JVM (default: ${DEFAULT-VALUE}).")
  String hypervisorHeap;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s",
      description = "Longest wait for any one inflation, deflation or guest start (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seeds the workloads and the random waits (default: ${DEFAULT-VALUE}).")
  long seed;

  /** Whether the balloon's size is read with GetVm ({@code --observer getvm}) rather than seen by the driver. */
  boolean observesByGetVm() {
    return observer.equals("getvm");
  }

  /** The driver of guest {@code name}: the driver's defaults with {@code --poll} and {@code --cap}. */
  BalloonDriver.Config driverConfig(String name) {
    return BalloonDriver.Config.defaults(name).withPollInterval(poll).withCapFraction(cap);
  }
}
