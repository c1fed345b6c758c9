package org.balloonlab.lab;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.guest.cli.GuestSummary;
import org.balloonlab.hypervisor.cli.HypervisorCommand;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.MemorySize;
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
 */
@Command(name = "compare-paging", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Runs the same guests twice, balloon drivers enabled then disabled, and compares ballooning "
        + "with hypervisor paging per VM.")
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

  private final List<JvmProcess> children = new ArrayList<>();

  /** What one guest reported at the end of one run. */
  record GuestResult(String vm, long simulatedNs, long guestFaults, long majorFaults, long hostPageIns,
                     long doublePaging, long ballooned, long violations) {}

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    check(guests >= 1 && guests <= 16, "--guests must be from 1 to 16, got " + guests);
    check(!stallTimeout.isZero() && !stallTimeout.isNegative(), "--stall-timeout must be positive");
    check(!timeout.isZero() && !timeout.isNegative(), "--timeout must be positive");
    long machinePages = requirePages(memory, "--memory");
    long guestPages = requirePages(guestMemory, "--guest-memory");
    Path dir = runDir != null ? runDir : Path.of("runs", "compare-paging-"
        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)));
    Thread cleanup = new Thread(this::stopAll, "compare-paging-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    out.printf("BalloonLab compare-paging: machine %s, %d guests of %s (%.2fx), workload %s; logs in %s%n", memory,
        guests, guestMemory, (double) guests * guestPages / machinePages, workload, dir);
    out.flush();
    List<GuestResult> enabled = run("enabled", dir.resolve("enabled"), out);
    List<GuestResult> disabled = run("disabled", dir.resolve("disabled"), out);
    Runtime.getRuntime().removeShutdownHook(cleanup);
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
    return violations == 0 ? 0 : 3;
  }

  /** Runs every guest to the end of its workload with the given driver mode; answers their results. */
  private List<GuestResult> run(String driverMode, Path dir, PrintWriter out) throws Exception {
    Files.createDirectories(dir);
    out.printf("run with balloon drivers %s ...%n", driverMode);
    out.flush();
    JvmProcess hypervisor = JvmProcess.start("hypervisor", HypervisorCommand.class.getName(),
        List.of("--memory", memory.toString(), "--listen", "127.0.0.1:0", "--balloon-stall-timeout",
            stallTimeout.toMillis() + "ms", "--sample-period", "1s"),
        "512m", dir, null);
    children.add(hypervisor);
    String address = hypervisor.awaitLine(HypervisorCommand.LISTENING, 60);
    List<JvmProcess> guestProcesses = new ArrayList<>();
    for (int i = 0; i < guests; i++) {
      String name = "vm" + (i + 1);
      JvmProcess guest = JvmProcess.start(name, GuestAgentCommand.class.getName(),
          List.of("--hypervisor", address, "--name", name, "--memory", guestMemory.toString(), "--workload",
              workload, "--seed", Integer.toString(i + 1), "--status-interval", "0s", "--balloon", driverMode),
          "384m", dir, null);
      children.add(guest);
      guestProcesses.add(guest);
    }
    ManagedChannel channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
    List<GuestResult> results = new ArrayList<>();
    try {
      var management = ManagementServiceGrpc.newBlockingStub(channel);
      ListVmsResponse last = ListVmsResponse.getDefaultInstance();
      long deadline = System.nanoTime() + timeout.toNanos();
      // The hypervisor forgets a VM when its guest powers it off, so its balloon is read while it runs.
      while (guestProcesses.stream().anyMatch(JvmProcess::isAlive)) {
        if (System.nanoTime() > deadline) {
          throw new IOException("the " + driverMode + " run did not finish within " + timeout + "; see " + dir);
        }
        TimeUnit.MILLISECONDS.sleep(200);
        try {
          last = merge(last, management.withDeadlineAfter(5, TimeUnit.SECONDS)
              .listVms(ListVmsRequest.getDefaultInstance()));
        } catch (io.grpc.StatusRuntimeException e) {
          // A busy hypervisor may miss one poll; the guests' own summaries are what counts.
        }
      }
      for (JvmProcess g : guestProcesses) {
        String summary = g.lineStartingWith(GuestAgentCommand.SUMMARY);
        if (summary == null) {
          throw new IOException(g.name() + " ended without a summary (exit " + g.process().exitValue() + "); see "
              + dir);
        }
        long ballooned = 0;
        for (VmState vm : last.getVmsList()) {
          if (vm.getName().equals(g.name())) {
            ballooned = vm.getBalloon().getLockedTotal();
          }
        }
        results.add(new GuestResult(g.name(), value(summary, "simulated_ns"), value(summary, "true_faults"),
            value(summary, "major_faults"), value(summary, "host_page_ins"), value(summary, "double_paging"),
            ballooned, value(summary, "integrity_violations") + value(summary, "isolation_violations")));
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      hypervisor.stop(10, TimeUnit.SECONDS);
    }
    return results;
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

  static long value(String summary, String key) {
    return GuestSummary.count(summary, key);
  }

  private long requirePages(MemorySize size, String option) {
    try {
      return size.requirePages(option);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private void check(boolean ok, String message) {
    if (!ok) {
      throw new CommandLine.ParameterException(spec.commandLine(), message);
    }
  }

  private void stopAll() {
    for (JvmProcess p : children) {
      p.close();
    }
  }
}
