package org.balloonlab.lab;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
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
import org.balloonlab.hypervisor.cli.HypervisorCommand;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code balloonlab lab}: runs a lab on this machine. Starts a hypervisor and its guests as separate JVMs,
 * prints a line per VM every interval while they run, stops everything at the end (or on Ctrl-C), and prints a
 * summary. The default lab overcommits machine memory 1.5 times with two guests whose workloads together touch
 * more memory than the machine has, so the hypervisor must page, and one guest pages itself too.
 */
@Command(name = "lab", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Runs a hypervisor and guests as separate JVMs on this machine and shows what happens.")
final class LabCommand implements Callable<Integer> {
  static final List<String> DEFAULT_WORKLOADS = List.of(
      "hotset:footprint=160MiB,hot=0.25,hot-share=0.9",
      "phases:sizes=64MiB/224MiB/96MiB,accesses=3000000,loop=true",
      "uniform:footprint=96MiB");

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "256MiB",
      description = "Machine memory (default: ${DEFAULT-VALUE}).")
  MemorySize memory;

  @Option(names = "--guests", paramLabel = "N", defaultValue = "2", description = "Guests to run (default: ${DEFAULT-VALUE}).")
  int guests;

  @Option(names = "--guest-memory", paramLabel = "SIZE", defaultValue = "192MiB",
      description = "Each guest's configured memory (default: ${DEFAULT-VALUE}).")
  MemorySize guestMemory;

  @Option(names = "--workload", paramLabel = "SPEC",
      description = "Workload of guest i, given once per guest in order (default: a hot set, growing and "
          + "shrinking phases, a uniform scan).")
  List<String> workloads = new ArrayList<>();

  @Option(names = "--duration", paramLabel = "DURATION", defaultValue = "20s",
      description = "How long the guests run (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "1s",
      description = "How often to print the live lines (default: ${DEFAULT-VALUE}).")
  Duration interval;

  @Option(names = "--run-dir", paramLabel = "DIR",
      description = "Where the processes' logs go (default: runs/lab-<date>-<time>).")
  Path runDir;

  private final List<JvmProcess> children = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    check(guests >= 1 && guests <= 64, "--guests must be from 1 to 64");
    check(!duration.isZero() && !duration.isNegative(), "--duration must be positive");
    check(!interval.isZero() && !interval.isNegative(), "--interval must be positive");
    check(workloads.isEmpty() || workloads.size() == guests,
        "give --workload once per guest (" + guests + "), or not at all");
    long machinePages = memory.requirePages("--memory");
    long guestPages = guestMemory.requirePages("--guest-memory");
    Path dir = runDir != null ? runDir : Path.of("runs", "lab-"
        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)));
    Files.createDirectories(dir);

    Thread cleanup = new Thread(this::stopAll, "lab-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    out.printf("BalloonLab lab: machine %s, %d guests of %s (%.2fx overcommitted), %d s; logs in %s%n", memory,
        guests, guestMemory, (double) guests * guestPages / machinePages, duration.toSeconds(), dir);
    out.flush();
    JvmProcess hypervisor = JvmProcess.start("hypervisor", HypervisorCommand.class.getName(),
        List.of("--memory", memory.toString(), "--listen", "127.0.0.1:0", "--port-file",
            dir.resolve("hypervisor.port").toString()),
        "768m", dir, null);
    children.add(hypervisor);
    HostPort address = HostPort.parse(waitForLine(hypervisor, HypervisorCommand.LISTENING, 30));
    List<JvmProcess> guestProcesses = new ArrayList<>();
    for (int i = 0; i < guests; i++) {
      String name = "vm" + (i + 1);
      String workload = workloads.isEmpty() ? DEFAULT_WORKLOADS.get(i % DEFAULT_WORKLOADS.size()) : workloads.get(i);
      JvmProcess guest = JvmProcess.start(name, GuestAgentCommand.class.getName(),
          List.of("--hypervisor", address.target(), "--name", name, "--memory", guestMemory.toString(),
              "--workload", workload, "--seed", Integer.toString(i + 1), "--status-interval", "0s"),
          "512m", dir, null);
      children.add(guest);
      guestProcesses.add(guest);
      out.printf("started %s (pid %d): %s%n", name, guest.pid(), workload);
    }
    for (JvmProcess g : guestProcesses) {
      waitForLine(g, GuestAgentCommand.READY, 30);
    }
    ManagedChannel channel = NettyChannelBuilder.forTarget(address.target()).usePlaintext().build();
    ListVmsResponse last = null;
    try {
      var management = ManagementServiceGrpc.newBlockingStub(channel);
      long start = System.nanoTime();
      long end = start + duration.toNanos();
      out.println(VmTable.header());
      while (System.nanoTime() < end && guestProcesses.stream().anyMatch(JvmProcess::isAlive)) {
        Thread.sleep(Math.min(interval.toMillis(), Math.max(1, (end - System.nanoTime()) / 1_000_000)));
        try {
          last = management.withDeadlineAfter(5, TimeUnit.SECONDS).listVms(ListVmsRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
          out.println("the hypervisor does not answer: " + e.getStatus());
          break;
        }
        String t = String.format(Locale.ROOT, "%.0fs", (System.nanoTime() - start) / 1e9);
        out.println(VmTable.render(t, last));
        out.flush();
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    out.println("stopping the guests");
    int failures = 0;
    for (JvmProcess g : guestProcesses) {
      int code = g.stop(20, TimeUnit.SECONDS);
      if (code != 0 && code != 143) {
        failures++;
        out.printf("%s exited with code %d (see %s)%n", g.name(), code, dir.resolve(g.name() + ".err.log"));
      }
    }
    hypervisor.stop(10, TimeUnit.SECONDS);
    Runtime.getRuntime().removeShutdownHook(cleanup);
    printSummary(out, last, guestProcesses);
    return failures == 0 ? 0 : 1;
  }

  private void printSummary(PrintWriter out, ListVmsResponse last, List<JvmProcess> guestProcesses) {
    out.println();
    out.println("summary");
    if (last != null) {
      out.println(VmTable.header());
      out.println(VmTable.render("end", last));
    }
    long violations = 0;
    for (JvmProcess g : guestProcesses) {
      String summary = g.lineStartingWith(GuestAgentCommand.SUMMARY);
      out.printf("%s: %s%n", g.name(), summary == null ? "no summary (it did not stop cleanly)" : summary);
      if (summary != null) {
        violations += value(summary, "integrity_violations") + value(summary, "isolation_violations");
      }
    }
    if (last != null) {
      long hidden = last.getVmsList().stream().mapToLong(v -> v.getCounters().getHiddenFaults()).sum();
      out.printf("integrity and isolation violations: %d; hidden faults: %d; host page-outs: %d; double paging: %d%n",
          violations, hidden, last.getMachine().getHostPageOuts(), last.getMachine().getDoublePaging());
    }
    out.flush();
  }

  static long value(String summary, String key) {
    for (String kv : summary.split(" ")) {
      if (kv.startsWith(key + "=")) {
        return Long.parseLong(kv.substring(key.length() + 1));
      }
    }
    return 0;
  }

  private String waitForLine(JvmProcess p, String prefix, int seconds) throws InterruptedException, IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      String v = p.lineStartingWith(prefix);
      if (v != null) {
        return v;
      }
      if (!p.isAlive()) {
        throw new IOException(p.name() + " exited with code " + p.process().exitValue() + " before it was ready");
      }
      Thread.sleep(20);
    }
    throw new IOException(p.name() + " did not get ready within " + seconds + " s");
  }

  private void stopAll() {
    for (int i = children.size() - 1; i >= 0; i--) {
      try {
        children.get(i).stop(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void check(boolean ok, String message) {
    if (!ok) {
      throw new CommandLine.ParameterException(spec.commandLine(), message);
    }
  }

}
