package org.balloonlab.lab;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.balloonlab.guest.cli.GuestSummary;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.HypervisorSpec;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.units.MemorySize;
import org.balloonlab.units.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code balloonlab translation}: the same workload, with the same seed, in a nested-paging VM and a shadow-paging
 * VM side by side. Starts one hypervisor and two guests as separate JVMs, waits for both workloads to end (each
 * guest then audits every page and powers off), and prints what translation cost each: exits by reason, TLB miss
 * rate, walk references, shadow-table memory, simulated time. Machine memory is large enough that the hypervisor
 * never pages, so the two VMs differ only in how they are translated.
 *
 * <p>The lab is a {@link Scenario} built from the options and run by the same {@link Launcher} as
 * {@code balloonlab run}; the guests start together and end by themselves after their accesses.
 */
@Command(name = "translation", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Runs one workload in a nested-paging VM and a shadow-paging VM and compares what address "
        + "translation cost each.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {ExitCodes.OK + ":both guests ran to the end", ExitCodes.FAILED + ":a guest failed or did not "
        + "finish in time", ExitCodes.USAGE + ":bad command line", ExitCodes.INTERRUPTED + ":Ctrl-C"})
final class TranslationCommand implements Callable<Integer> {
  private static final String DEFAULT_WORKLOAD = "hotset:footprint=40MiB,hot=0.1,hot-share=0.9";

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--workload", paramLabel = "SPEC", defaultValue = DEFAULT_WORKLOAD,
      description = "The workload of every process of both guests (default: ${DEFAULT-VALUE}).")
  String workload;

  @Option(names = "--processes", paramLabel = "N", defaultValue = "2",
      description = "Processes per guest, each in its own address space (default: ${DEFAULT-VALUE}).")
  int processes;

  @Option(names = "--accesses", paramLabel = "N", defaultValue = "4000000",
      description = "Accesses each guest makes before it stops (default: ${DEFAULT-VALUE}).")
  long accesses;

  @Option(names = "--guest-memory", paramLabel = "SIZE", defaultValue = "64MiB",
      description = "Each guest's memory; less than the workloads' footprint makes the guests page too "
          + "(default: ${DEFAULT-VALUE}).")
  MemorySize guestMemory;

  @Option(names = "--slice", paramLabel = "N", defaultValue = "10000",
      description = "Accesses a process makes before the next one runs (default: ${DEFAULT-VALUE}).")
  int slice;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seed of both guests' workloads (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--tlb-entries", paramLabel = "N", defaultValue = "1536",
      description = "Passed to the hypervisor (default: ${DEFAULT-VALUE}).")
  int tlbEntries;

  @Option(names = "--tlb-ways", paramLabel = "N", defaultValue = "12",
      description = "Passed to the hypervisor (default: ${DEFAULT-VALUE}).")
  int tlbWays;

  @Option(names = "--tlb-untagged", description = "Passed to the hypervisor: context switches flush the TLB.")
  boolean tlbUntagged;

  @Option(names = "--cost", paramLabel = "NAME=NS", description = "Passed to the hypervisor; repeatable.")
  List<String> costs = new ArrayList<>();

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "120s",
      description = "Give up if the workloads have not ended by then (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--run-dir", paramLabel = "DIR",
      description = "Where the processes' logs go (default: runs/translation-<date>-<time>).")
  Path runDir;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    OptionCheck.require(spec, processes >= 1 && processes <= 256, "--processes must be from 1 to 256, got "
        + processes);
    OptionCheck.require(spec, accesses > 0, "--accesses must be positive, got " + accesses);
    OptionCheck.require(spec, slice > 0, "--slice must be positive, got " + slice);
    OptionCheck.require(spec, !timeout.isZero() && !timeout.isNegative(), "--timeout must be positive");
    Scenario scenario = scenario(OptionCheck.pages(spec, guestMemory, "--guest-memory"));
    Path dir = runDir != null ? runDir : Launcher.newRunDirectory(scenario);
    Launcher launcher = new Launcher(dir, "512m", "512m");
    return launcher.run(() -> {
      out.printf("BalloonLab translation: %d x %s in two %s VMs, %d accesses each, seed %d; logs in %s%n",
          processes, workload, guestMemory, accesses, seed, dir);
      out.flush();
      launcher.startOneByOne(scenario);
      Optional<JvmProcess> late = launcher.awaitGuestsExit(scenario.duration(), Duration.ofMillis(50), () -> { });
      if (late.isPresent()) {
        out.printf("%s did not finish within %s; stopping (see %s)%n", late.get().name(), timeout, dir);
        out.flush();
        return ExitCodes.FAILED;
      }
      Map<String, Map<String, Long>> results = new LinkedHashMap<>();
      int failures = 0;
      for (Launcher.GuestEnd end : launcher.stopGuests(10)) {
        if (end.exitCode() != 0 || end.summary() == null) {
          out.println(launcher.endedBadly(end));
          failures++;
          continue;
        }
        results.put(end.vm(), GuestSummary.counts(end.summary()));
      }
      launcher.stopHypervisor();
      if (failures > 0) {
        return ExitCodes.FAILED;
      }
      out.println();
      out.print(render(results.get("nested"), results.get("shadow")));
      out.flush();
      return ExitCodes.OK;
    });
  }

  /**
   * The lab: one guest per translation mode, named after it, both with the same workload and seed and ending
   * after their accesses; the scenario's duration is the time they are given to end.
   */
  private Scenario scenario(long guestPages) {
    // Room for both VMs and a little more: the hypervisor never pages, so paging cannot differ between the two.
    MemorySize machine = MemorySize.ofPages(2 * guestPages + guestPages / 4 + 256);
    HypervisorSpec hypervisor = HypervisorSpec.builder(machine).tlb(tlbEntries, tlbWays, tlbUntagged).costs(costs)
        .build();
    List<GuestSpec> guests = new ArrayList<>();
    for (String mode : List.of("nested", "shadow")) {
      guests.add(GuestSpec.builder(mode, guestMemory, List.of(workload)).processes(processes).accesses(accesses)
          .slice(slice).seed(seed).translation(mode).build());
    }
    return new Scenario("translation", "balloonlab translation", "", hypervisor, guests, List.of(), timeout,
        Scenario.ReportSpec.DEFAULT);
  }

  /** The side-by-side table; rows name what they count. */
  static String render(Map<String, Long> nested, Map<String, Long> shadow) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"", "nested", "shadow"});
    exitRow(rows, "exits: page-table write", "exits_pt_write", nested, shadow);
    exitRow(rows, "exits: context switch", "exits_context_switch", nested, shadow);
    exitRow(rows, "exits: guest page fault", "exits_guest_fault", nested, shadow);
    exitRow(rows, "exits: shadow fill", "exits_shadow_fill", nested, shadow);
    exitRow(rows, "exits: p2m fault", "exits_p2m_fault", nested, shadow);
    rows.add(new String[] {"exits: total", count(totalExits(nested)), count(totalExits(shadow))});
    rows.add(new String[] {"TLB misses", count(get(nested, "tlb_misses")), count(get(shadow, "tlb_misses"))});
    rows.add(new String[] {"TLB miss rate", missRate(nested), missRate(shadow)});
    exitRow(rows, "walk references", "walk_references", nested, shadow);
    rows.add(new String[] {"walk references per TLB miss", perMiss(nested), perMiss(shadow)});
    exitRow(rows, "hidden shadow faults", "hidden_shadow_faults", nested, shadow);
    exitRow(rows, "faults reflected to the guest", "reflected_faults", nested, shadow);
    rows.add(new String[] {"shadow-table bytes (peak)", bytes(nested), bytes(shadow)});
    rows.add(new String[] {"translation time (simulated)", seconds(get(nested, "translation_ns")),
        seconds(get(shadow, "translation_ns"))});
    rows.add(new String[] {"simulated time", seconds(get(nested, "simulated_ns")),
        seconds(get(shadow, "simulated_ns"))});
    rows.add(new String[] {"guest true faults", count(get(nested, "true_faults")),
        count(get(shadow, "true_faults"))});
    rows.add(new String[] {"accesses", count(get(nested, "accesses")), count(get(shadow, "accesses"))});
    rows.add(new String[] {"integrity + isolation violations", count(violations(nested)),
        count(violations(shadow))});
    int w0 = 0;
    int w1 = 0;
    int w2 = 0;
    for (String[] r : rows) {
      w0 = Math.max(w0, r[0].length());
      w1 = Math.max(w1, r[1].length());
      w2 = Math.max(w2, r[2].length());
    }
    StringBuilder b = new StringBuilder();
    for (String[] r : rows) {
      b.append(String.format(Locale.ROOT, "%-" + w0 + "s  %" + w1 + "s  %" + w2 + "s%n", r[0], r[1], r[2]));
    }
    return b.toString();
  }

  private static void exitRow(List<String[]> rows, String label, String key, Map<String, Long> nested,
                              Map<String, Long> shadow) {
    rows.add(new String[] {label, count(get(nested, key)), count(get(shadow, key))});
  }

  static long get(Map<String, Long> values, String key) {
    Long v = values.get(key);
    if (v == null) {
      throw new IllegalArgumentException("the guest's summary has no " + key);
    }
    return v;
  }

  static long totalExits(Map<String, Long> v) {
    return get(v, "exits_pt_write") + get(v, "exits_context_switch") + get(v, "exits_guest_fault")
        + get(v, "exits_shadow_fill") + get(v, "exits_p2m_fault");
  }

  private static long violations(Map<String, Long> v) {
    return get(v, "integrity_violations") + get(v, "isolation_violations");
  }

  private static String missRate(Map<String, Long> v) {
    long misses = get(v, "tlb_misses");
    long lookups = misses + get(v, "tlb_hits");
    return String.format(Locale.ROOT, "%.2f %%", lookups == 0 ? 0.0 : 100.0 * misses / lookups);
  }

  private static String perMiss(Map<String, Long> v) {
    long misses = get(v, "tlb_misses");
    return misses == 0 ? "-" : String.format(Locale.ROOT, "%.1f", (double) get(v, "walk_references") / misses);
  }

  private static String bytes(Map<String, Long> v) {
    long b = get(v, "shadow_bytes_peak");
    return b == 0 ? "0" : String.format(Locale.ROOT, "%,d (%s)", b, MemorySize.humanPages(b / 4096));
  }

  private static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  private static String seconds(long ns) {
    return String.format(Locale.ROOT, "%.3f s", ns / 1e9);
  }
}
