package org.balloonlab.lab;

import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.balloonlab.guest.cli.GuestSummary;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.HypervisorSpec;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.MemorySize;
import org.balloonlab.units.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code balloonlab compare-paging}: the same guests with the same workloads run twice on the same machine, once
 * with their balloon drivers enabled and once with them disabled, so that the ESX policy must fall back to
 * hypervisor paging. Prints, per VM and run, what the guest paid: simulated time to finish its workload, its own
 * page faults, the hypervisor's page-ins for it and the double paging among them.
 *
 * <p>By default each guest touches more than its memory (so it pages to its own swap, as a loaded guest does)
 * with strong locality: 95 % of accesses go to a quarter of its footprint. A guest that balloons gives up its cold
 * pages; the hypervisor, paging blindly, takes hot ones as often as cold ones, and pages the guest's own
 * page-out victims back in just to have them written out again.
 *
 * <p>Each run is a {@link Scenario} built from the options and run by the same {@link Launcher} as
 * {@code balloonlab run}, in a folder of its own; the guests start together and end by themselves when their
 * workloads are done.
 */
@Command(name = "compare-paging", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Runs the same guests twice, balloon drivers enabled then disabled, and compares ballooning "
        + "with hypervisor paging per VM.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {ExitCodes.OK + ":both runs ended with no violation", ExitCodes.FAILED + ":a run failed, or "
        + "integrity or isolation violations were found", ExitCodes.USAGE + ":bad command line",
        ExitCodes.INTERRUPTED + ":Ctrl-C"})
final class PagingComparisonCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "96MiB",
      description = "Machine memory (default: ${DEFAULT-VALUE}).")
  MemorySize memory;

  @Option(names = "--guests", paramLabel = "N", defaultValue = "3", description = "Guests (default: ${DEFAULT-VALUE}).")
  int guests;

  @Option(names = "--guest-memory", paramLabel = "SIZE", defaultValue = "48MiB",
      description = "Each guest's memory (default: ${DEFAULT-VALUE}).")
  MemorySize guestMemory;

  @Option(names = "--workload", paramLabel = "SPEC",
      defaultValue = "hotset:footprint=56MiB,hot=0.25,hot-share=0.95,accesses=6000000,ramp=3000000",
      description = "Every guest's workload; it must finish (default: ${DEFAULT-VALUE}).")
  String workload;

  @Option(names = "--stall-timeout", paramLabel = "DURATION", defaultValue = "2s",
      description = "How long the hypervisor waits for a balloon before paging instead (default: ${DEFAULT-VALUE}).")
  Duration stallTimeout;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5m",
      description = "Give up on a run after this long (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--run-dir", paramLabel = "DIR",
      description = "Where the processes' logs go (default: runs/compare-paging-<date>-<time>).")
  Path runDir;

  /** What one guest reported at the end of one run. */
  record GuestResult(String vm, long simulatedNs, long guestFaults, long majorFaults, long hostPageIns,
                     long doublePaging, long ballooned, long violations) {

    /** The counts of a guest's summary line, and the pages its balloon locked in all, read while it ran. */
    static GuestResult of(String vm, String summary, long ballooned) {
      return new GuestResult(vm, GuestSummary.count(summary, "simulated_ns"),
          GuestSummary.count(summary, "true_faults"), GuestSummary.count(summary, "major_faults"),
          GuestSummary.count(summary, "host_page_ins"), GuestSummary.count(summary, "double_paging"), ballooned,
          GuestSummary.count(summary, "integrity_violations") + GuestSummary.count(summary, "isolation_violations"));
    }
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    OptionCheck.require(spec, guests >= 1 && guests <= 16, "--guests must be from 1 to 16, got " + guests);
    OptionCheck.require(spec, !stallTimeout.isZero() && !stallTimeout.isNegative(),
        "--stall-timeout must be positive");
    OptionCheck.require(spec, !timeout.isZero() && !timeout.isNegative(), "--timeout must be positive");
    long machinePages = OptionCheck.pages(spec, memory, "--memory");
    long guestPages = OptionCheck.pages(spec, guestMemory, "--guest-memory");
    Path dir = runDir != null ? runDir : Launcher.newRunDirectory(scenario("enabled"));
    out.printf("BalloonLab compare-paging: machine %s, %d guests of %s (%.2fx), workload %s; logs in %s%n", memory,
        guests, guestMemory, (double) guests * guestPages / machinePages, workload, dir);
    out.flush();
    List<GuestResult> enabled = run("enabled", dir.resolve("enabled"), out);
    List<GuestResult> disabled = run("disabled", dir.resolve("disabled"), out);
    out.println();
    out.print(table(enabled, disabled));
    out.flush();
    long violations = 0;
    for (GuestResult r : enabled) {
      violations += r.violations();
    }
    for (GuestResult r : disabled) {
      violations += r.violations();
    }
    out.printf("integrity and isolation violations: %d%n", violations);
    out.flush();
    return violations == 0 ? ExitCodes.OK : ExitCodes.FAILED;
  }

  /**
   * The lab of one run: every guest with its balloon driver in {@code driverMode} at boot, the same workload
   * and its own seed; the scenario's duration is the time the run is given to end.
   */
  private Scenario scenario(String driverMode) {
    HypervisorSpec hypervisor = HypervisorSpec.builder(memory).balloonStallTimeout(stallTimeout)
        .samplePeriod(Duration.ofSeconds(1)).build();
    List<GuestSpec> specs = new ArrayList<>();
    for (int i = 0; i < guests; i++) {
      specs.add(GuestSpec.builder("vm" + (i + 1), guestMemory, List.of(workload)).seed(i + 1L).balloon(driverMode)
          .build());
    }
    return new Scenario("compare-paging", "balloonlab compare-paging", "", hypervisor, specs, List.of(), timeout,
        Scenario.ReportSpec.DEFAULT);
  }

  /** Runs every guest to the end of its workload with the given driver mode; answers their results. */
  private List<GuestResult> run(String driverMode, Path dir, PrintWriter out)
      throws IOException, InterruptedException {
    Scenario scenario = scenario(driverMode);
    out.printf("run with balloon drivers %s ...%n", driverMode);
    out.flush();
    Launcher launcher = new Launcher(dir, "512m", "384m");
    return launcher.run(() -> {
      HostPort address = launcher.startOneByOne(scenario);
      try (ManagementClient management = launcher.management(address)) {
        // The hypervisor forgets a VM when its guest powers it off, so its balloon is read while it runs.
        AtomicReference<ListVmsResponse> last = new AtomicReference<>(ListVmsResponse.getDefaultInstance());
        Optional<JvmProcess> late = launcher.awaitGuestsExit(scenario.duration(), Duration.ofMillis(200), () -> {
          try {
            last.set(merge(last.get(), management.stub().listVms(ListVmsRequest.getDefaultInstance())));
          } catch (StatusRuntimeException e) {
            // A busy hypervisor may miss one poll; the guests' own summaries are what counts.
          }
        });
        if (late.isPresent()) {
          throw new IOException("the " + driverMode + " run did not finish within " + timeout + "; see " + dir);
        }
        List<GuestResult> results = new ArrayList<>();
        for (Launcher.GuestEnd end : launcher.stopGuests(10)) {
          if (end.summary() == null) {
            throw new IOException(end.vm() + " ended without a summary (exit " + end.exitCode() + "); see " + dir);
          }
          long ballooned = 0;
          for (VmState vm : last.get().getVmsList()) {
            if (vm.getName().equals(end.vm())) {
              ballooned = vm.getBalloon().getLockedTotal();
            }
          }
          results.add(GuestResult.of(end.vm(), end.summary(), ballooned));
        }
        return results;
      }
    });
  }

  /** Keeps the last state seen of every VM, including those that have powered off since. */
  private static ListVmsResponse merge(ListVmsResponse before, ListVmsResponse now) {
    ListVmsResponse.Builder b = now.toBuilder();
    for (VmState old : before.getVmsList()) {
      if (now.getVmsList().stream().noneMatch(v -> v.getName().equals(old.getName()))) {
        b.addVms(old);
      }
    }
    return b.build();
  }

  /** The comparison table, one row per VM, the two runs side by side. */
  static String table(List<GuestResult> enabled, List<GuestResult> disabled) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%-5s | %-38s | %-38s%n", "", "balloon drivers enabled",
        "balloon drivers disabled (hypervisor paging)"));
    String columns = String.format(Locale.ROOT, "%9s %8s %8s %8s", "sim time", "gst flt", "hv p-in", "dbl pg");
    b.append(String.format(Locale.ROOT, "%-5s | %-38s | %-38s%n", "vm", columns + " balloon", columns));
    for (int i = 0; i < enabled.size(); i++) {
      GuestResult e = enabled.get(i);
      GuestResult d = i < disabled.size() ? disabled.get(i) : null;
      b.append(String.format(Locale.ROOT, "%-5s | %8.2fs %8d %8d %8d %8s | ", e.vm(), e.simulatedNs() / 1e9,
          e.guestFaults(), e.hostPageIns(), e.doublePaging(), MemorySize.humanPages(e.ballooned())));
      if (d != null) {
        b.append(String.format(Locale.ROOT, "%8.2fs %8d %8d %8d", d.simulatedNs() / 1e9, d.guestFaults(),
            d.hostPageIns(), d.doublePaging()));
      }
      b.append('\n');
    }
    return b.toString();
  }
}
