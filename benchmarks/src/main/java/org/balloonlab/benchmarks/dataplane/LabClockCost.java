package org.balloonlab.benchmarks.dataplane;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.balloonlab.benchmarks.FigureTable;
import org.balloonlab.benchmarks.HypervisorJvm;
import org.balloonlab.benchmarks.Medians;

/**
 * What the lab clock (docs/lab-clock.md) costs the data plane, measured on the same workload and seed in one run.
 *
 * <ol>
 *   <li><b>Pairs</b>: a hypervisor JVM with {@code --lab-clock free}, then one with {@code --lab-clock lockstep
 *       --pace max --quantum Q}, each driven by this JVM playing the guest agent as it plays it in that mode
 *       ({@link GrpcGuest}: free, or its vCPU on the quanta its access stream grants). Free and lockstep runs
 *       alternate, A B A B, so a machine that gets busier or quieter during the run, and a harness JVM whose JIT
 *       keeps improving, weigh on both alike; each pair's ratio lockstep / free is taken from its two runs, one
 *       right after the other, and the figure with a target is the median of the pairs' ratios.
 *   <li><b>The quantum</b>: for each quantum of the sweep, one lockstep hypervisor JVM and three guests one after
 *       the other. An idle guest (it touches its footprint, then idles) leaves the clock nothing to wait for but
 *       the barrier itself: lab time runs as fast as one boundary's round trip allows (the guest's
 *       {@code QuantumDone} to the hypervisor's sequencer, the boundary, the next grant back to the vCPU), so the
 *       wall time per quantum it takes is the cost of one clock step. The first idle guest warms that path up and
 *       is not reported. Then the busy workload of the pairs, whose rate shows how the data path's cost changes
 *       with the quantum: a shorter quantum drains the guest's pipeline and crosses the barrier more often.
 * </ol>
 * Every run is a {@link ThroughputRun}: warm-up excluded, every read checked, every page audited at the end.
 *
 * <p>Where a lockstep guest loses time against a free one: at the end of each quantum it runs, its vCPU drains the
 * pipeline (every batch answered before {@code QuantumDone}), so the hypervisor applies the last window of batches
 * while the guest waits, and the guest fills the next quantum's first batch while the hypervisor waits; a quantum
 * shorter than a few batches of accesses leaves no pipelining at all. And since within a quantum the guest counts
 * the hypervisor's charges only as of its last drain, it runs past the quantum's end by the charges of the batches
 * in flight, then answers each quantum it overran at once, one clock step apiece. The detail lines show both: the
 * quanta a busy guest took, and how many of them it answered at once.
 */
final class LabClockCost {
  /** The share of the free-running rate the lockstep data path must keep. */
  static final double TARGET_RATIO = 0.75;

  /** Starts a hypervisor JVM with {@code clockFlags} added to the harness's flags, its logs and host swap in dir. */
  @FunctionalInterface
  interface Hypervisors {
    HypervisorJvm start(Path dir, List<String> clockFlags) throws IOException, InterruptedException;
  }

  /** A free-running run and the lockstep run right after it, same workload and seed. */
  record Pair(GrpcGuest.Outcome free, GrpcGuest.Outcome lockstep) {
    double ratio() {
      return lockstep.result().accessesPerSecond() / free.result().accessesPerSecond();
    }
  }

  /** One quantum of the sweep: the idle guest that measures the clock step, the busy one on the same hypervisor. */
  record Step(Duration quantum, GrpcGuest.Outcome idle, GrpcGuest.Outcome busy) {
    /** Wall microseconds per quantum the idle guest took: one boundary of the clock, end to end. */
    double microsPerBoundary() {
      long quanta = idle.quanta().taken();
      return quanta == 0 ? Double.NaN : idle.result().elapsedNs() / 1e3 / quanta;
    }

    /** Simulated seconds the idle guest's clock ran per wall second. */
    double idleSimulatedPerWallSecond() {
      return (double) idle.result().simulatedNs() / idle.result().elapsedNs();
    }
  }

  /**
   * What the part measured.
   *
   * @param quantum the quantum of the pairs' lockstep runs
   */
  record Result(Duration quantum, List<Pair> pairs, List<Step> steps) {
    double[] ratios() {
      return pairs.stream().mapToDouble(Pair::ratio).toArray();
    }

    double medianRatio() {
      return Medians.of(ratios());
    }

    /** The median rate of the pairs' free-running runs: what the sweep's busy rates are compared with. */
    double medianFreeRate() {
      return Medians.of(pairs.stream().mapToDouble(p -> p.free().result().accessesPerSecond()).toArray());
    }

    /** Every run's guest, in the order they ran: pairs first, then the sweep (idle, then busy, per quantum). */
    List<GrpcGuest.Outcome> runs() {
      List<GrpcGuest.Outcome> all = new ArrayList<>();
      pairs.forEach(p -> all.addAll(List.of(p.free(), p.lockstep())));
      steps.forEach(s -> all.addAll(List.of(s.idle(), s.busy())));
      return all;
    }

    /** Adds the part's rows to {@code figures}: the pairs, their median against the target, the sweep, the audit. */
    void addTo(FigureTable figures) {
      String q = millis(quantum);
      for (int i = 0; i < pairs.size(); i++) {
        Pair p = pairs.get(i);
        figures.info("lockstep " + q + " / free, pair " + (i + 1), ratio(p.ratio()),
            mega(p.lockstep().result().accessesPerSecond()) + " / " + mega(p.free().result().accessesPerSecond())
                + " accesses/s");
      }
      if (!pairs.isEmpty()) {
        double median = medianRatio();
        figures.target("lockstep " + q + " / free, median of " + pairs.size(), ratio(median),
            String.format(Locale.ROOT, ">= %.2f", TARGET_RATIO), median >= TARGET_RATIO);
      }
      for (Step s : steps) {
        figures.info("clock step, idle guest, quantum " + millis(s.quantum()),
            String.format(Locale.ROOT, "%.1f us/boundary", s.microsPerBoundary()),
            String.format(Locale.ROOT, "%,.0f boundaries/s, %.1f simulated s per wall s",
                1e6 / s.microsPerBoundary(), s.idleSimulatedPerWallSecond()));
      }
      double free = medianFreeRate();
      for (Step s : steps) {
        double rate = s.busy().result().accessesPerSecond();
        figures.info("data plane, lockstep, quantum " + millis(s.quantum()),
            String.format(Locale.ROOT, "%,.0f accesses/s", rate),
            pairs.isEmpty() ? "" : String.format(Locale.ROOT, "%.3f of the pairs' free median", rate / free));
      }
      long integrity = 0;
      long isolation = 0;
      for (GrpcGuest.Outcome o : runs()) {
        integrity += o.result().integrityViolations();
        isolation += o.result().isolationViolations();
      }
      figures.audit("integrity / isolation violations (lab clock, " + runs().size() + " runs)",
          integrity + " / " + isolation, "0 / 0", integrity + isolation);
    }

    /** One line per run under the table: its rate, steadiness, CPU and, on the clock, the quanta it took. */
    void printDetail(PrintWriter out) {
      for (int i = 0; i < pairs.size(); i++) {
        out.println(describe("pair " + (i + 1) + ", free", pairs.get(i).free(), true));
        out.println(describe("pair " + (i + 1) + ", lockstep " + millis(quantum), pairs.get(i).lockstep(), true));
      }
      for (Step s : steps) {
        out.println(describe("idle, lockstep " + millis(s.quantum()), s.idle(), false));
        out.println(describe("busy, lockstep " + millis(s.quantum()), s.busy(), true));
      }
    }

    /** @param busy whether its rate is a figure (an idle guest's accesses are only its footprint touched again) */
    static String describe(String name, GrpcGuest.Outcome o, boolean busy) {
      ThroughputRun.Result r = o.result();
      StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "  %s: %.3f s", name, r.elapsedNs() / 1e9));
      if (busy) {
        b.append(String.format(Locale.ROOT, ", %,.0f accesses/s", r.accessesPerSecond()));
        if (!r.steadiness().isEmpty()) {
          b.append(" (").append(r.steadiness()).append(')');
        }
      }
      b.append("; ").append(r.cpu());
      if (o.lockstep()) {
        MeasuredLabClock.Counts q = o.quanta();
        b.append(String.format(Locale.ROOT, "; %,d quanta, %,d answered at once; %.2f simulated s per wall s",
            q.taken(), q.answeredAtOnce(), (double) r.simulatedNs() / r.elapsedNs()));
      }
      return b.toString();
    }
  }

  private final Hypervisors hypervisors;
  private final ThroughputRun busy;
  private final ThroughputRun idleWarmup;
  private final ThroughputRun idle;
  private final GrpcGuest.Shape shape;
  private final Consumer<String> progress;

  /**
   * @param busy the workload of the pairs and of the sweep's busy guests
   * @param idleWarmup the idle workload, for the untimed guest that warms the clock's path up at each quantum
   * @param idle the idle workload, measured
   */
  LabClockCost(Hypervisors hypervisors, ThroughputRun busy, ThroughputRun idleWarmup, ThroughputRun idle,
               GrpcGuest.Shape shape, Consumer<String> progress) {
    this.hypervisors = hypervisors;
    this.busy = busy;
    this.idleWarmup = idleWarmup;
    this.idle = idle;
    this.shape = shape;
    this.progress = progress;
  }

  /**
   * Runs {@code pairs} pairs with {@code quantum}, then the sweep over {@code quanta}; child logs go to a folder per
   * hypervisor under {@code workDir}.
   */
  Result measure(Duration quantum, int pairs, List<Duration> quanta, Path workDir) throws Exception {
    List<Pair> measured = new ArrayList<>();
    for (int i = 1; i <= pairs; i++) {
      String pair = "pair " + i + " of " + pairs;
      GrpcGuest.Outcome free = oneGuest(workDir.resolve("clock-pair" + i + "-free"), List.of("--lab-clock", "free"),
          "clock-free", pair + ", free");
      GrpcGuest.Outcome lockstep = oneGuest(workDir.resolve("clock-pair" + i + "-lockstep"), lockstep(quantum),
          "clock-lockstep", pair + ", lockstep " + millis(quantum));
      measured.add(new Pair(free, lockstep));
    }
    List<Step> steps = new ArrayList<>();
    for (Duration q : quanta) {
      Path dir = Files.createDirectories(workDir.resolve("clock-quantum-" + millis(q).replace(" ", "")));
      try (HypervisorJvm hypervisor = hypervisors.start(dir, lockstep(q))) {
        progress.accept("lab clock, quantum " + millis(q) + ": hypervisor JVM (pid " + hypervisor.pid() + ", "
            + String.join(" ", lockstep(q)) + "); an idle guest to warm up, an idle guest measured, a busy one");
        GrpcGuest.run(hypervisor, "clock-idle-warmup", idleWarmup, shape, dir);
        GrpcGuest.Outcome idleGuest = GrpcGuest.run(hypervisor, "clock-idle", idle, shape, dir);
        GrpcGuest.Outcome busyGuest = GrpcGuest.run(hypervisor, "clock-busy", busy, shape, dir);
        steps.add(new Step(q, idleGuest, busyGuest));
      }
    }
    return new Result(quantum, measured, steps);
  }

  /** The busy workload on VM {@code vmName}, on a hypervisor JVM of its own. */
  private GrpcGuest.Outcome oneGuest(Path dir, List<String> clockFlags, String vmName, String what) throws Exception {
    Files.createDirectories(dir);
    try (HypervisorJvm hypervisor = hypervisors.start(dir, clockFlags)) {
      progress.accept("lab clock, " + what + ": hypervisor JVM (pid " + hypervisor.pid() + ", "
          + String.join(" ", clockFlags) + ")");
      return GrpcGuest.run(hypervisor, vmName, busy, shape, dir);
    }
  }

  /** A lockstep hypervisor's flags: as fast as the CPUs allow, with {@code quantum}. */
  static List<String> lockstep(Duration quantum) {
    return List.of("--lab-clock", "lockstep", "--pace", "max", "--quantum", quantum.toMillis() + "ms");
  }

  private static String millis(Duration d) {
    return d.toMillis() + " ms";
  }

  private static String ratio(double r) {
    return String.format(Locale.ROOT, "%.3f", r);
  }

  private static String mega(double perSecond) {
    return String.format(Locale.ROOT, "%.2fM", perSecond / 1e6);
  }
}
