package org.balloonlab.benchmarks.sharing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.balloonlab.benchmarks.BenchmarkCommand;
import org.balloonlab.benchmarks.FigureTable;
import org.balloonlab.benchmarks.Medians;
import org.balloonlab.hypervisor.machine.AccessOps;
import org.balloonlab.hypervisor.machine.BatchResult;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.SharingSettings;
import org.balloonlab.hypervisor.machine.SharingSnapshot;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.time.CostModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The page-sharing benchmark, in process (the machine in this JVM, called as the gRPC service calls it):
 * <ol>
 *   <li><b>Scanner cost</b>: wall nanoseconds per page scanned, on VMs whose pages are half an image shared by
 *       all of them and half their own data, so the scan does every kind of work: share, hint, recheck.
 *   <li><b>Data path with sharing on against off</b>: accesses per second of one VM's batches (90 % reads, 10 %
 *       writes, uniform over its memory) on a machine with sharing on, its pages shared by a second VM of the
 *       same image, against the same batches on a machine without sharing. The two machines live side by side
 *       and take each batch in turn (which goes first alternates), so whatever else the host runs falls on both
 *       alike; each round is a pair of fresh machines, and the figure is the median of the rounds' ratios. The
 *       writes break copy-on-write as they land on shared pages, which is part of what is measured. It is measured
 *       for two layouts of the VMs' frames ({@link Layout}): first touches interleaved page by page, as guests
 *       that run at once make them (the target), and one dense block per VM (a VM touched all its memory before
 *       the other touched any). Sharing costs the second layout more: it remaps half of VM a's pages into frames
 *       spread over both blocks, so a's working set covers twice the host cache lines of the baseline's block;
 *       that is a cost in the simulator's host caches, not in the sharing code, which the first layout isolates.
 *   <li><b>Bytes per machine page</b>: the sharing table's bytes over machine frames: its slots, the per-frame
 *       index of each shared frame's slot, and the overflow table (a shared frame is marked by its owner).
 * </ol>
 * Times are this thread's CPU time (the machine is single-threaded under its lock), which a busy host disturbs
 * less than wall time; they still depend on the host: compare runs on the same machine.
 */
@Command(name = "sharing-benchmark",
    description = "Measures the page-sharing scanner's cost per page, the data path's access rate with sharing on "
        + "against off, and the sharing table's bytes per machine page.",
    exitCodeList = {"0:the benchmark ran", "1:a target was missed (with --strict) or the benchmark failed",
        "2:bad command line"})
public final class SharingBenchmark extends BenchmarkCommand {
  /** The data path with sharing on must keep this share of its rate without. */
  static final double TARGET_RATIO = 0.9;
  /** ESX keeps its table under 0.5 % of memory: 20.48 bytes per 4 KiB page. */
  static final double TARGET_BYTES_PER_PAGE = 4096 * 0.005;
  private static final int BATCH = 4096;
  /**
   * The data path is timed in this thread's CPU time, not wall time: on a shared host the wall time of a batch
   * counts whatever else ran meanwhile, which swamps a comparison of two runs a few percent apart.
   */
  private static final java.lang.management.ThreadMXBean THREADS =
      java.lang.management.ManagementFactory.getThreadMXBean();

  @Option(names = "--vm-pages", paramLabel = "N", defaultValue = "262144",
      description = "Pages of each of the two VMs (default: ${DEFAULT-VALUE}, 1 GiB).")
  int vmPages;

  @Option(names = "--rounds", paramLabel = "N", defaultValue = "5",
      description = "Alternating rounds of the data path on and off (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--batches", paramLabel = "N", defaultValue = "500",
      description = "Timed batches of " + BATCH + " accesses a round, after as many untimed "
          + "(default: ${DEFAULT-VALUE}).")
  int batches;

  @Option(names = "--layout", paramLabel = "LAYOUT", split = ",", converter = LayoutConverter.class,
      description = "Layouts of the VMs' frames to measure the data path on: interleaved (first touches alternate "
          + "page by page, the target), blocks (one dense block per VM) (default: interleaved,blocks).")
  List<Layout> layouts = new ArrayList<>(List.of(Layout.values()));

  @Option(names = "--skip-scan",
      description = "Leave the scanner out of the data-path rounds: sharing is on but nothing is shared, which "
          + "measures what the enabled code path costs by itself, without copy-on-write breaks.")
  boolean skipScan;

  @Option(names = "--strict", description = "Exit 1 if a target is missed.")
  boolean strict;

  private long timedBreaks;
  private long timedAccesses;

  /** How the two VMs' first touches placed their pages in machine frames, before the data path is measured. */
  enum Layout {
    /** The VMs' first touches alternate page by page, as guests running at once make them: frames interleave. */
    INTERLEAVED("interleaved first touches"),
    /** VM a touches all its memory, then VM b: each VM's frames are one dense block. */
    BLOCKS("one block per VM");

    final String label;

    Layout(String label) {
      this.label = label;
    }
  }

  /** Reads a layout by its lower-case name, and says which names there are otherwise. */
  static final class LayoutConverter implements picocli.CommandLine.ITypeConverter<Layout> {
    @Override
    public Layout convert(String value) {
      for (Layout layout : Layout.values()) {
        if (layout.name().toLowerCase(Locale.ROOT).equals(value)) {
          return layout;
        }
      }
      throw new picocli.CommandLine.TypeConversionException("unknown layout '" + value
          + "'; known: interleaved, blocks");
    }
  }

  public static void main(String[] args) {
    main(new SharingBenchmark(), args);
  }

  @Override
  protected int run() throws Exception {
    check(vmPages >= 1024 && vmPages <= (1 << 24), "--vm-pages must be from 1024 to 16777216, got " + vmPages);
    check(rounds >= 1 && rounds <= 100, "--rounds must be from 1 to 100, got " + rounds);
    check(batches >= 1 && batches <= 1_000_000, "--batches must be from 1 to 1000000, got " + batches);
    check(layouts.stream().distinct().count() == layouts.size(), "--layout names a layout twice: " + layouts);
    Path dir = Files.createTempDirectory("balloonlab-sharing-bench");
    FigureTable figures = new FigureTable();
    try {
      double nsPerPage = scannerCost(dir);
      figures.info("scanner CPU time per page scanned", String.format(Locale.ROOT, "%.0f ns", nsPerPage),
          "two VMs of " + vmPages + " pages, half a shared image");
      long[] tableBytes = new long[1];
      for (Layout layout : layouts) {
        dataPathFigures(dir, layout, tableBytes, figures);
      }
      long frames = frames();
      double bytesPerPage = (double) tableBytes[0] / frames;
      figures.target("sharing table bytes per machine page", String.format(Locale.ROOT, "%.2f", bytesPerPage),
          String.format(Locale.ROOT, "<= %.2f (0.5 %%)", TARGET_BYTES_PER_PAGE), bytesPerPage <= TARGET_BYTES_PER_PAGE);
      figures.info("sharing table", tableBytes[0] + " bytes", frames + " machine frames");
      figures.print(out);
      out.flush();
      return strict && figures.misses() > 0 ? EXIT_FAILED : 0;
    } finally {
      for (String swap : new String[] {"host.swap", "host-on.swap", "host-off.swap"}) {
        Files.deleteIfExists(dir.resolve(swap));
      }
      Files.deleteIfExists(dir);
    }
  }

  private void dataPathFigures(Path dir, Layout layout, long[] tableBytes, FigureTable figures) {
    List<Double> on = new ArrayList<>();
    List<Double> off = new ArrayList<>();
    List<Double> ratios = new ArrayList<>();
    timedBreaks = 0;
    timedAccesses = 0;
    for (int r = 0; r < rounds; r++) {
      double[] rates = dataPath(dir, layout, r, tableBytes);
      on.add(rates[0]);
      off.add(rates[1]);
      ratios.add(rates[0] / rates[1]);
      progress(String.format(Locale.ROOT, "%s, round %d: sharing on %.2fM, off %.2fM accesses/s, ratio %.3f",
          layout.label, r + 1, rates[0] / 1e6, rates[1] / 1e6, rates[0] / rates[1]));
    }
    double medianOn = Medians.of(on.stream().mapToDouble(Double::doubleValue).toArray());
    double medianOff = Medians.of(off.stream().mapToDouble(Double::doubleValue).toArray());
    double ratio = Medians.of(ratios.stream().mapToDouble(Double::doubleValue).toArray());
    String where = ", " + layout.label;
    figures.info("data path, sharing on" + where, String.format(Locale.ROOT, "%.2fM accesses/CPU-s",
        medianOn / 1e6), "median of " + rounds);
    figures.info("data path, sharing off" + where, String.format(Locale.ROOT, "%.2fM accesses/CPU-s",
        medianOff / 1e6), "median of " + rounds);
    figures.info("copy-on-write breaks timed" + where, timedBreaks + "", String.format(Locale.ROOT,
        "%.3f %% of %d accesses", 100.0 * timedBreaks / Math.max(1, timedAccesses), timedAccesses));
    String value = String.format(Locale.ROOT, "%.3f", ratio);
    if (layout == Layout.INTERLEAVED) {
      figures.target("data path on / off" + where, value, ">= " + TARGET_RATIO + " (median of rounds)",
          ratio >= TARGET_RATIO);
    } else {
      figures.info("data path on / off" + where, value,
          "host cache cost: sharing spreads a's frames over both blocks");
    }
  }

  private int frames() {
    return vmPages * 2 + vmPages / 2;
  }

  private Machine machine(Path swapFile, boolean sharing) {
    return new Machine(new MachineConfig(frames(), frames(), swapFile, BATCH, CostModel.DEFAULT, 7)
        .withSharing(sharing ? SharingSettings.ON : SharingSettings.OFF));
  }

  /** Half the pages hold one image all VMs share, half their own data. */
  private static long token(int vmId, int pfn) {
    return pfn % 2 == 0 ? 0x1000_0000_0000L + pfn : 0x8000_0000_0000_0000L | ((long) vmId << 40) | pfn;
  }

  private static void fill(Machine m, Vm vm) {
    byte[] ops = new byte[BATCH];
    int[] pfns = new int[BATCH];
    long[] values = new long[BATCH];
    long[] reads = new long[BATCH];
    BatchResult result = new BatchResult();
    for (int base = 0; base < vm.memoryPages(); base += BATCH) {
      int n = Math.min(BATCH, vm.memoryPages() - base);
      for (int i = 0; i < n; i++) {
        ops[i] = AccessOps.WRITE;
        pfns[i] = base + i;
        values[i] = token(vm.id(), base + i);
      }
      m.applyBatch(vm, n, ops, pfns, values, reads, result);
    }
  }

  /** Fills both VMs one page each in turn, as two guests touching memory at once place their frames. */
  private static void fillInterleaved(Machine m, Vm a, Vm b) {
    byte[] ops = {AccessOps.WRITE};
    int[] pfns = new int[1];
    long[] values = new long[1];
    long[] reads = new long[1];
    BatchResult result = new BatchResult();
    for (int pfn = 0; pfn < a.memoryPages(); pfn++) {
      for (Vm vm : new Vm[] {a, b}) {
        pfns[0] = pfn;
        values[0] = token(vm.id(), pfn);
        m.applyBatch(vm, 1, ops, pfns, values, reads, result);
      }
    }
  }

  private double scannerCost(Path dir) {
    try (Machine m = machine(dir.resolve("host.swap"), true)) {
      Vm a = m.powerOn("a", "linux", vmPages);
      Vm b = m.powerOn("b", "linux", vmPages);
      fill(m, a);
      fill(m, b);
      // One tick is at most a second's worth: at the maximum rates, 2^20 pages a VM.
      long scanned = 0;
      long start = THREADS.getCurrentThreadCpuTime();
      int ticks = Math.max(1, 4 * vmPages / SharingSettings.DEFAULT_MAX_PAGES_PER_SECOND);
      for (int i = 0; i < ticks; i++) {
        scanned += m.scanForSharing(1_000_000_000L);
      }
      long wall = THREADS.getCurrentThreadCpuTime() - start;
      SharingSnapshot s = m.snapshot().sharing();
      progress(String.format(Locale.ROOT, "scanner: %d pages scanned, %d shared frames, %d saved, %d hints",
          scanned, s.sharedFrames(), s.savedFrames(), s.hints()));
      return (double) wall / scanned;
    }
  }

  /**
   * One round: accesses per CPU-second of VM a's batches on a machine with sharing on (its image pages shared
   * with VM b's first) and on one with sharing off, the same batches given to both in turn.
   *
   * @return the rates, sharing on then off
   */
  private double[] dataPath(Path dir, Layout layout, int round, long[] tableBytes) {
    try (Machine on = machine(dir.resolve("host-on.swap"), true);
         Machine off = machine(dir.resolve("host-off.swap"), false)) {
      Vm[] vms = {prepare(on, true, layout), prepare(off, false, layout)};
      Machine[] machines = {on, off};
      if (tableBytes != null) {
        tableBytes[0] = on.snapshot().sharing().tableBytes();
      }
      SplittableRandom random = new SplittableRandom(round);
      byte[] ops = new byte[BATCH];
      int[] pfns = new int[BATCH];
      long[] values = new long[BATCH];
      long[] reads = new long[BATCH];
      BatchResult result = new BatchResult();
      long accesses = 0;
      long[] cpu = new long[2];
      long breaksBefore = 0;
      // The first half is a warm-up, untimed: the JIT settles and most first writes to shared pages (copy-on-write
      // breaks, a hidden fault each that the machine without sharing does not have) happen there; the second half
      // is the steady state that is timed, its breaks counted.
      for (int k = -batches; k < batches; k++) {
        if (k == 0) {
          breaksBefore = on.snapshot().sharing().cowBreaks();
        }
        int w = 0;
        for (int i = 0; i < BATCH; i++) {
          pfns[i] = random.nextInt(vmPages);
          if (random.nextInt(10) == 0) {
            ops[i] = AccessOps.WRITE;
            values[w++] = token(vms[0].id(), pfns[i]) ^ 0x4000_0000L;
          } else {
            ops[i] = AccessOps.READ;
          }
        }
        for (int j = 0; j < 2; j++) {
          // Which machine goes first alternates, so neither always runs with the other's data in the caches.
          int which = (k + j) & 1;
          long start = THREADS.getCurrentThreadCpuTime();
          machines[which].validateBatch(vms[which], BATCH, ops, pfns, w);
          machines[which].applyBatch(vms[which], BATCH, ops, pfns, values, reads, result);
          if (k >= 0) {
            cpu[which] += THREADS.getCurrentThreadCpuTime() - start;
          }
        }
        if (k >= 0) {
          accesses += BATCH;
        }
      }
      timedBreaks += on.snapshot().sharing().cowBreaks() - breaksBefore;
      timedAccesses += accesses;
      return new double[] {accesses * 1e9 / cpu[0], accesses * 1e9 / cpu[1]};
    }
  }

  /**
   * Powers on VMs a and b and fills them in {@code layout}; with sharing on, scans until a's image pages share b's
   * frames.
   */
  private Vm prepare(Machine m, boolean sharing, Layout layout) {
    Vm a = m.powerOn("a", "linux", vmPages);
    Vm b = m.powerOn("b", "linux", vmPages);
    if (layout == Layout.BLOCKS) {
      fill(m, a);
      fill(m, b);
    } else {
      fillInterleaved(m, a, b);
    }
    while (sharing && !skipScan && m.snapshot().sharing().scannedPages() < 6L * vmPages) {
      m.scanForSharing(1_000_000_000L);
    }
    return a;
  }
}
