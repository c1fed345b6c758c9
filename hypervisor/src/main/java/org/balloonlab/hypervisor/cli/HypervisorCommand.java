package org.balloonlab.hypervisor.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import org.balloonlab.domain.Pace;
import org.balloonlab.domain.PolicyNames;
import org.balloonlab.hypervisor.clock.ClockSettings;
import org.balloonlab.hypervisor.clock.LabClock;
import org.balloonlab.hypervisor.grpc.HypervisorServer;
import org.balloonlab.hypervisor.grpc.InjectedFaults;
import org.balloonlab.hypervisor.grpc.ServerGate;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.metrics.HypervisorMetrics;
import org.balloonlab.transport.metrics.MetricsEndpoint;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.Quotas;
import org.balloonlab.hypervisor.machine.ReclamationLoop;
import org.balloonlab.hypervisor.machine.ReclamationOnLabClock;
import org.balloonlab.hypervisor.machine.SharingSettings;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.policy.FreeMemoryThresholds;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.hypervisor.time.DiskProfile;
import org.balloonlab.swap.SwapDevice;
import org.balloonlab.swap.SwapReservationException;
import org.balloonlab.units.CommandLineConverters;
import org.balloonlab.units.ExitCodes;
import org.balloonlab.units.ParentWatch;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.Keepalive;
import org.balloonlab.units.MemorySize;
import org.balloonlab.units.MetricsOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hypervisor}: owns machine memory and serves guests, operators and tools until it is stopped. */
@Command(name = "hypervisor", mixinStandardHelpOptions = true, version = "BalloonLab 0.1.0",
    description = "Runs the BalloonLab hypervisor: simulated machine memory, a P2M per VM, demand allocation, "
        + "overcommit and hypervisor paging to a real host swap file.",
    sortOptions = false,
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {ExitCodes.USAGE + ":bad command line",
        ExitCodes.CANNOT_START + ":cannot start: the address cannot be listened on, or the host swap file could not be "
            + "reserved (disk full, directory not writable)",
        ExitCodes.INTERRUPTED + ":stopped by Ctrl-C, or the launcher went away (--exit-with-parent)",
        ExitCodes.TERMINATED + ":stopped by SIGTERM (the usual way to stop it)"})
public final class HypervisorCommand implements Callable<Integer> {
  /** The line a launcher or test waits for on standard output; the address follows it. */
  public static final String LISTENING = "BALLOONLAB_HYPERVISOR_LISTENING ";
  /** Exit code when the host swap file cannot be reserved at start: the disk under it is full, or not writable. */
  public static final int EXIT_HOST_SWAP = ExitCodes.CANNOT_START;
  /**
   * The line that says where the hypervisor wrote the tokens it generated (operator.token, lab.token), printed
   * before {@link #LISTENING}; the directory follows it. Absent when both tokens were given.
   */
  public static final String TOKENS = "BALLOONLAB_HYPERVISOR_TOKENS ";
  /** Printed before {@link #LISTENING} when metrics are served; the URL to scrape follows it. */
  public static final String METRICS = "BALLOONLAB_HYPERVISOR_METRICS ";
  private static final int MAX_FRAMES = Integer.MAX_VALUE - 8;

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "1GiB",
      description = "Machine memory, such as 512MiB or 16GiB (default: ${DEFAULT-VALUE}).")
  MemorySize memory;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7400",
      description = "Address to serve on; port 0 picks a free port (default: ${DEFAULT-VALUE}). Use 0.0.0.0:PORT "
          + "for a lab over several machines.")
  HostPort listen;

  @CommandLine.Mixin
  SecurityOptions security = new SecurityOptions();

  @Option(names = "--port-file", paramLabel = "FILE",
      description = "Write the address actually bound (host:port) to this file once serving.")
  Path portFile;

  @CommandLine.Mixin
  MetricsOptions metricsOptions = new MetricsOptions();

  @Option(names = "--host-swap", paramLabel = "SIZE",
      description = "Capacity of the host swap file (default: four times --memory). The file holds 8 bytes a "
          + "page, reserved on disk in full at start: 8MiB for the default 4GiB.")
  MemorySize hostSwap;

  @Option(names = "--host-swap-file", paramLabel = "FILE",
      description = "Where the host swap file lives (default: a new file in the temporary directory). It is "
          + "unlinked as soon as it is open, so nothing is left behind however the hypervisor ends.")
  Path hostSwapFile;

  @Option(names = "--max-batch", paramLabel = "N", defaultValue = "16384",
      description = "Most accesses a guest may send in one batch (default: ${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(names = "--max-vms", paramLabel = "N", defaultValue = "" + Quotas.DEFAULT_MAX_VMS,
      description = "Most VMs powered on at once; a power-on beyond it is refused (default: ${DEFAULT-VALUE}).")
  int maxVms;

  @Option(names = "--max-configured-memory", paramLabel = "SIZE",
      description = "Most memory the powered-on VMs may be configured with in total; a power-on beyond it is "
          + "refused (default: four times --memory).")
  MemorySize maxConfiguredMemory;

  @Option(names = "--max-translation-tables", paramLabel = "SIZE", defaultValue = "8MiB",
      description = "Most translation tables (copies of guest page tables, shadow tables; 4 KiB a table page) one "
          + "VM may make the hypervisor hold; a batch that could pass it is refused (default: ${DEFAULT-VALUE}, "
          + "about 4 MiB of heap a VM).")
  MemorySize maxTranslationTables;

  @Option(names = "--detach-timeout", paramLabel = "DURATION", defaultValue = "10s",
      description = "Power off a VM whose guest has not attached its access stream for this long, in wall time: a "
          + "grace for a guest that closed its stream without powering off or never attached it; a stream that "
          + "breaks, or that --keepalive gives up, releases its VM at once (default: ${DEFAULT-VALUE}).")
  Duration detachTimeout;

  @Option(names = "--keepalive", paramLabel = "TIME[,TIMEOUT]", defaultValue = "10s,5s",
      description = "Network keepalive, in wall time: ping a client whose connection carried nothing for TIME and "
          + "drop it if the answer takes longer than TIMEOUT, so a guest cut off by a silent partition is noticed and "
          + "its VM released; TIME at least 10s (gRPC's floor), TIMEOUT from 1s to TIME (default: ${DEFAULT-VALUE}). "
          + "See docs/multi-machine.md.")
  Keepalive keepalive;

  @Option(names = "--balloon-batch", paramLabel = "N", defaultValue = "512",
      description = "Most pages a balloon driver may lock or unlock in one call (default: ${DEFAULT-VALUE}).")
  int balloonBatch;

  @Option(names = "--balloon-stall-timeout", paramLabel = "DURATION", defaultValue = "10s",
      description = "Mark a balloon driver uncooperative when it makes no progress toward its target for this "
          + "long, in simulated time (wall time with --lab-clock free) (default: ${DEFAULT-VALUE}).")
  Duration balloonStallTimeout;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seed of the hypervisor's random victim choice (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--policy", paramLabel = "NAME", defaultValue = PolicyNames.ESX,
      description = "Reclamation policy: esx (shares per page with the idle memory tax, balloon targets set "
          + "automatically, hypervisor paging as the fallback) or manual (balloon targets by hand only) "
          + "(default: ${DEFAULT-VALUE}).")
  String policy;

  @Option(names = "--tau", paramLabel = "RATE", defaultValue = "0.75",
      description = "Idle memory tax rate, 0 to 0.99 (default: ${DEFAULT-VALUE}).")
  double tau;

  @Option(names = "--sample-pages", paramLabel = "N", defaultValue = "100",
      description = "Pages sampled per period to estimate each VM's active memory (default: ${DEFAULT-VALUE}).")
  int samplePages;

  @Option(names = "--sample-period", paramLabel = "DURATION", defaultValue = "30s",
      description = "Sampling period, in the VM's simulated time (default: ${DEFAULT-VALUE}).")
  Duration samplePeriod;

  @Option(names = "--sample-gains", paramLabel = "FAST,SLOW", defaultValue = "0.5,0.1",
      description = "Weights of a new sample in the fast and the slow moving average of the active fraction "
          + "(default: ${DEFAULT-VALUE}).")
  String sampleGains;

  @Option(names = "--free-high", paramLabel = "PERCENT", defaultValue = "6",
      description = "Free memory at or above which nothing is reclaimed (default: ${DEFAULT-VALUE}).")
  double freeHigh;

  @Option(names = "--free-soft", paramLabel = "PERCENT", defaultValue = "4",
      description = "Below it the policy balloons (default: ${DEFAULT-VALUE}).")
  double freeSoft;

  @Option(names = "--free-hard", paramLabel = "PERCENT", defaultValue = "2",
      description = "Below it the hypervisor pages VMs to their targets (default: ${DEFAULT-VALUE}).")
  double freeHard;

  @Option(names = "--free-low", paramLabel = "PERCENT", defaultValue = "1",
      description = "Below it VMs above their target are held until paged under it (default: ${DEFAULT-VALUE}).")
  double freeLow;

  @Option(names = "--free-hysteresis", paramLabel = "POINTS", defaultValue = "1",
      description = "Percentage points above a threshold before the state climbs back (default: ${DEFAULT-VALUE}).")
  double freeHysteresis;

  @Option(names = "--policy-period", paramLabel = "DURATION", defaultValue = "200ms",
      description = "Simulated time between two decisions of the reclamation policy (wall time with --lab-clock "
          + "free) (default: ${DEFAULT-VALUE}).")
  Duration policyPeriod;

  @Option(names = "--lab-clock", paramLabel = "MODE", defaultValue = "lockstep",
      description = "lockstep: VMs run in quanta of one lab clock, so a run's results depend on simulated time "
          + "alone; free: VMs run at their own pace on wall time, nothing is reproducible (for comparisons) "
          + "(default: ${DEFAULT-VALUE}). See docs/lab-clock.md.")
  String labClock;

  @Option(names = "--quantum", paramLabel = "DURATION", defaultValue = "10ms",
      description = "Simulated time between two boundaries of the lab clock (default: ${DEFAULT-VALUE}).")
  Duration quantum;

  @Option(names = "--pace", paramLabel = "PACE", defaultValue = "1x",
      description = "How fast the lab clock may run: max (as fast as the CPUs allow) or a factor of wall time "
          + "such as 1x or 0.5x (default: ${DEFAULT-VALUE}).")
  String pace;

  @Option(names = "--straggler-grace", paramLabel = "DURATION", defaultValue = "30s",
      description = "Wall time the lab clock waits for a VM that stopped answering before it powers it off and "
          + "goes on without it (default: ${DEFAULT-VALUE}).")
  Duration stragglerGrace;

  @Option(names = "--disk-profile", paramLabel = "PROFILE", defaultValue = "ssd",
      description = "The disk behind the guests' swap and the host swap: ssd (100 us a page) or disk-2002 (8 ms a "
          + "page, a disk of Waldspurger, OSDI 2002's time); --cost overrides it constant by constant "
          + "(default: ${DEFAULT-VALUE}).")
  String diskProfile;

  @Option(names = "--cost", paramLabel = "NAME=NS",
      description = "Override a cost-model constant in nanoseconds, after --disk-profile; repeatable. Names: "
          + "memory-access, "
          + "guest-page-fault, hidden-fault, zero-frame, guest-swap-read, guest-swap-write, host-swap-read, "
          + "host-swap-write, tlb-hit, page-walk-reference, vm-exit, copy-frame, share-scan.")
  List<String> costs = new ArrayList<>();

  @Option(names = "--tlb-entries", paramLabel = "N", defaultValue = "1536",
      description = "Translations each VM's TLB caches (default: ${DEFAULT-VALUE}).")
  int tlbEntries;

  @Option(names = "--tlb-ways", paramLabel = "N", defaultValue = "12",
      description = "Associativity of the TLB: translations per set; must divide --tlb-entries "
          + "(default: ${DEFAULT-VALUE}).")
  int tlbWays;

  @Option(names = "--tlb-untagged",
      description = "TLB entries carry no address-space tag (no PCIDs): every guest context switch flushes the VM's "
          + "non-global entries.")
  boolean tlbUntagged;

  @CommandLine.Mixin
  SharingOptions sharingOptions = new SharingOptions();

  @Option(names = "--inject", paramLabel = "FAULT",
      description = "Inject a fault, for tests and fault studies (repeatable): " + InjectedFaults.FORMAT
          + " applies the Nth balloon Lock of VM, then holds its answer back for DURATION of wall time, so a "
          + "driver whose deadline is shorter loses it and must retry.")
  List<String> inject = new ArrayList<>();

  @Option(names = "--exit-with-parent",
      description = "Stop when standard input reaches its end: a launcher keeps a pipe to it open for as long as it "
          + "lives, so the hypervisor ends with its launcher, even one killed by SIGKILL.")
  boolean exitWithParent;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  public static CommandLine commandLine() {
    return CommandLineConverters.register(new CommandLine(new HypervisorCommand()));
  }

  @Override
  public Integer call() throws Exception {
    security.resolve(spec.commandLine(), System.getenv());
    metricsOptions.validate(spec.commandLine());
    MachineConfig config = config();
    ClockSettings clockSettings = clockSettings();
    InjectedFaults faults;
    try {
      faults = InjectedFaults.parse(inject);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    long wallStart = System.nanoTime();
    LabClock[] clock = new LabClock[1];
    // The machine's time: the lab clock's under lockstep, wall time since start on a hypervisor that runs free.
    LongSupplier time = clockSettings == null ? () -> System.nanoTime() - wallStart : () -> clock[0].labTimeNs();
    SwapDevice hostSwapDevice;
    try {
      hostSwapDevice = new SwapDevice(config.hostSwapFile(), config.hostSwapSlots());
    } catch (SwapReservationException e) {
      spec.commandLine().getErr().println("balloonlab hypervisor: "
          + e.userMessage(MemorySize.humanPages(config.hostSwapSlots()) + " of host swap"));
      return EXIT_HOST_SWAP;
    }
    Machine machine = new Machine(config, tlbConfig(), time, hostSwapDevice);
    machine.events().stampLabTimeFrom(time);
    ReclamationLoop reclamation = null;
    if (clockSettings != null) {
      clock[0] = new LabClock(clockSettings,
          new ReclamationOnLabClock(machine, config.reclamation().periodNanos()));
    }
    InetSocketAddress address = new InetSocketAddress(listen.host(), listen.port());
    // A batch carries about 13 bytes an access (op, varint PFN, fixed64 value); leave room for the rest.
    int maxMessage = (int) Math.min(Integer.MAX_VALUE, 16L * maxBatch + (1 << 20));
    // The port is known once bound; refusals name the state directory, which is named after it.
    HostPort[] boundAt = new HostPort[1];
    HypervisorServer server;
    try {
      server = new HypervisorServer(
          // Handlers never block (a batch is applied in microseconds, page-outs included, or queued for its turn
          // on the lab clock), so they run on the transport's threads: one thread hop less per batch.
          keepalive.applyTo(security.tls().serverBuilder(address).maxInboundMessageSize(maxMessage)
              .directExecutor()), machine,
          detachTimeout, clock[0], ServerGate.of(security.operator(), security.lab(),
              () -> security.operatorHint(boundAt[0]), () -> security.labHint(boundAt[0]))).inject(faults);
      if (faults.any()) {
        spec.commandLine().getErr().println("hypervisor: injecting faults: " + faults);
      }
      server.start();
    } catch (IOException e) {
      machine.close();
      spec.commandLine().getErr().println("hypervisor: cannot listen on " + listen + ": " + e.getMessage()
          + " (is another hypervisor there? choose another --listen)");
      return ExitCodes.CANNOT_START;
    }
    HostPort bound = new HostPort(listen.host(), server.port());
    boundAt[0] = bound;
    Optional<Path> tokenDir;
    try {
      tokenDir = security.writeGenerated(bound);
    } catch (IOException e) {
      server.stop();
      machine.close();
      throw new CommandLine.ExecutionException(spec.commandLine(), "cannot write the tokens: " + e.getMessage(), e);
    }
    security.warnIfExposed(listen, spec.commandLine().getErr());
    MetricsEndpoint metrics;
    try {
      metrics = !metricsOptions.enabled() ? null : MetricsEndpoint.start(metricsOptions.bind(),
          metricsOptions.port(), new HypervisorMetrics(machine::snapshot, time));
    } catch (IOException | IllegalArgumentException e) {
      server.stop();
      machine.close();
      spec.commandLine().getErr().println("hypervisor: cannot serve metrics on " + metricsOptions.bind() + ":" + metricsOptions.port()
          + ": " + e.getMessage());
      return ExitCodes.CANNOT_START;
    }
    if (clock[0] != null) {
      clock[0].start();
    } else {
      reclamation = new ReclamationLoop(machine);
      reclamation.start(config.reclamation().periodNanos());
    }
    ReclamationLoop loop = reclamation;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (loop != null) {
        loop.close();
      }
      if (clock[0] != null) {
        clock[0].close();
      }
      if (metrics != null) {
        metrics.close();
      }
      try {
        server.stop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        machine.close();
        security.removeWritten();
      }
    }, "hypervisor-shutdown"));
    if (exitWithParent) {
      ParentWatch.exitWhenStdinCloses(spec.commandLine().getErr(), "hypervisor");
    }
    if (portFile != null) {
      Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
      Files.writeString(tmp, bound.target(), StandardCharsets.UTF_8);
      Files.move(tmp, portFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    PrintWriter out = spec.commandLine().getOut();
    tokenDir.ifPresent(dir -> out.println(TOKENS + dir));
    if (metrics != null) {
      out.println(METRICS + metrics.url());
    }
    out.println(LISTENING + bound.target());
    out.printf("security: %s; operator token %s, lab token %s; read-only views (status, events) open to loopback "
        + "peers without a token, to others with the lab or operator token (docs/security.md)%n",
        security.tls().describe(), security.operatorGenerated() ? "generated" : "given",
        security.labGenerated() ? "generated" : "given");
    out.printf("machine memory %s (%d frames), host swap %s (%d slots) reserved at %s (unlinked)%n", memory,
        config.frames(), MemorySize.ofPages(config.hostSwapSlots()), config.hostSwapSlots(),
        config.hostSwapFile());
    Quotas q = config.quotas();
    out.printf("quotas: %d VMs, %s configured memory in total, %s of translation tables a VM; each VM reserves "
        + "memory - min of host swap%n", q.maxVms(), MemorySize.ofPages(q.maxConfiguredPages()),
        MemorySize.ofPages(q.maxTranslationTablePages()));
    out.printf("cost model (disk profile %s): %s%n", DiskProfile.of(diskProfile).label(),
        config.costs().describe());
    ReclamationSettings r = config.reclamation();
    out.printf("reclamation: policy %s, tau %.2f, sampling %d pages per %s, free thresholds %s%n", r.policy(), r.tau(),
        r.samplePages(), samplePeriod, r.thresholds());
    out.printf("lab clock: %s%n", clockSettings == null ? "free (wall time; results are not reproducible)"
        : "lockstep, quantum " + quantum.toMillis() + " ms, pace " + Pace.parse(pace) + ", straggler grace "
        + stragglerGrace.toSeconds() + " s of wall time");
    out.printf("network keepalive %s: a silent client is noticed within %d s of wall time%n", keepalive,
        keepalive.detection().toSeconds());
    out.printf("TLB per vCPU: %d entries, %d ways, %s%n", tlbEntries, tlbWays,
        tlbUntagged ? "untagged (context switches flush)" : "tagged by VM and address space");
    out.flush();
    server.blockUntilShutdown();
    return ExitCodes.OK;
  }

  /** The lab clock's settings, or {@code null} for a hypervisor that runs free. */
  ClockSettings clockSettings() {
    CommandLine cl = spec.commandLine();
    if (!labClock.equals("lockstep") && !labClock.equals("free")) {
      throw new CommandLine.ParameterException(cl, "--lab-clock must be lockstep or free, got '" + labClock + "'");
    }
    if (quantum.isNegative() || quantum.toNanos() < 1_000 || quantum.compareTo(Duration.ofSeconds(10)) > 0) {
      throw new CommandLine.ParameterException(cl, "--quantum must be from 1us to 10s, got " + quantum);
    }
    if (stragglerGrace.isNegative() || stragglerGrace.isZero()) {
      throw new CommandLine.ParameterException(cl, "--straggler-grace must be positive");
    }
    Pace p;
    try {
      p = Pace.parse(pace);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, "--pace: " + e.getMessage());
    }
    if (labClock.equals("free")) {
      return null;
    }
    return new ClockSettings(quantum.toNanos(), p.factor(), stragglerGrace.toNanos());
  }

  TlbConfig tlbConfig() {
    CommandLine cl = spec.commandLine();
    if (tlbEntries <= 0 || tlbEntries > TlbConfig.MAX_ENTRIES) {
      throw new CommandLine.ParameterException(cl, "--tlb-entries must be from 1 to " + TlbConfig.MAX_ENTRIES
          + ", got " + tlbEntries);
    }
    if (tlbWays <= 0 || tlbWays > TlbConfig.MAX_WAYS || tlbEntries % tlbWays != 0) {
      throw new CommandLine.ParameterException(cl, "--tlb-ways must be from 1 to " + TlbConfig.MAX_WAYS
          + " and divide --tlb-entries (" + tlbEntries + "), got " + tlbWays);
    }
    return new TlbConfig(tlbEntries, tlbWays, !tlbUntagged);
  }

  MachineConfig config() throws IOException {
    tlbConfig();
    CommandLine cl = spec.commandLine();
    long frames = pages(memory, "--memory");
    if (frames > MAX_FRAMES) {
      throw new CommandLine.ParameterException(cl, "--memory " + memory + " is more than this simulator can hold ("
          + MemorySize.ofPages(MAX_FRAMES) + ")");
    }
    long slots = hostSwap == null ? Math.min(MAX_FRAMES, frames * 4) : pages(hostSwap, "--host-swap");
    if (slots > MAX_FRAMES) {
      throw new CommandLine.ParameterException(cl, "--host-swap " + hostSwap + " is too large");
    }
    if (maxBatch <= 0 || maxBatch > 1 << 20) {
      throw new CommandLine.ParameterException(cl, "--max-batch must be between 1 and 1048576, got " + maxBatch);
    }
    if (balloonBatch <= 0 || balloonBatch > 1 << 16) {
      throw new CommandLine.ParameterException(cl, "--balloon-batch must be between 1 and 65536, got "
          + balloonBatch);
    }
    requirePositive(balloonStallTimeout, "--balloon-stall-timeout");
    requirePositive(detachTimeout, "--detach-timeout");
    CostModel model;
    try {
      model = DiskProfile.of(diskProfile).applyTo(CostModel.DEFAULT);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, "--disk-profile: " + e.getMessage());
    }
    for (String assignment : costs) {
      try {
        model = model.with(assignment);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(cl, "--cost: " + e.getMessage());
      }
    }
    Quotas quotas = quotas(frames);
    ReclamationSettings reclamation = reclamation();
    // A name of this process's own: the file is created and unlinked at once when the machine reserves it.
    Path swapFile = hostSwapFile != null ? hostSwapFile : Path.of(System.getProperty("java.io.tmpdir"),
        "balloonlab-host-swap-" + ProcessHandle.current().pid() + "-"
        + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".swap");
    return new MachineConfig((int) frames, (int) slots, swapFile, maxBatch, model, seed, balloonBatch,
        balloonStallTimeout.toNanos(), reclamation, quotas, sharing());
  }

  /** The page-sharing settings, validated. */
  SharingSettings sharing() {
    return sharingOptions.settings(spec.commandLine());
  }

  /** The quotas, validated. */
  Quotas quotas(long frames) {
    CommandLine cl = spec.commandLine();
    if (maxVms <= 0 || maxVms > Quotas.MAX_VMS_LIMIT) {
      throw new CommandLine.ParameterException(cl, "--max-vms must be from 1 to " + Quotas.MAX_VMS_LIMIT + ", got "
          + maxVms);
    }
    long configured = maxConfiguredMemory == null ? Quotas.DEFAULT_OVERCOMMIT * frames
        : pages(maxConfiguredMemory, "--max-configured-memory");
    long tables = pages(maxTranslationTables, "--max-translation-tables");
    if (tables < 16) {
      throw new CommandLine.ParameterException(cl, "--max-translation-tables must be at least 64KiB (16 table "
          + "pages), got " + maxTranslationTables);
    }
    return new Quotas(maxVms, configured, tables);
  }

  /** A size in pages, or the command line's usage error naming {@code option}. */
  private long pages(MemorySize size, String option) {
    try {
      return size.requirePages(option);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private void requirePositive(Duration duration, String option) {
    if (duration.isZero() || duration.isNegative()) {
      throw new CommandLine.ParameterException(spec.commandLine(), option + " must be positive");
    }
  }

  private ReclamationSettings reclamation() {
    CommandLine cl = spec.commandLine();
    requirePositive(samplePeriod, "--sample-period");
    requirePositive(policyPeriod, "--policy-period");
    if (!PolicyNames.isKnown(policy)) {
      throw new CommandLine.ParameterException(cl, "--policy must be " + PolicyNames.CHOICES + ", got '" + policy
          + "'");
    }
    if (!(tau >= 0 && tau <= 0.99)) {
      throw new CommandLine.ParameterException(cl, "--tau must be from 0 to 0.99, got " + tau);
    }
    if (samplePages <= 0 || samplePages > 1_000_000) {
      throw new CommandLine.ParameterException(cl, "--sample-pages must be from 1 to 1000000, got " + samplePages);
    }
    String[] gains = sampleGains.split(",", -1);
    double fast;
    double slow;
    try {
      fast = Double.parseDouble(gains[0].trim());
      slow = gains.length == 2 ? Double.parseDouble(gains[1].trim()) : Double.NaN;
    } catch (NumberFormatException e) {
      fast = Double.NaN;
      slow = Double.NaN;
    }
    if (!(slow > 0 && slow <= fast && fast <= 1)) {
      throw new CommandLine.ParameterException(cl, "--sample-gains takes FAST,SLOW with 0 < SLOW <= FAST <= 1, got '"
          + sampleGains + "'");
    }
    FreeMemoryThresholds thresholds;
    try {
      thresholds = new FreeMemoryThresholds(freeHigh, freeSoft, freeHard, freeLow, freeHysteresis);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, "--free-high, --free-soft, --free-hard, --free-low, "
          + "--free-hysteresis: " + e.getMessage());
    }
    return new ReclamationSettings(policy, tau, samplePages, samplePeriod.toNanos(), fast, slow, thresholds,
        policyPeriod.toNanos());
  }
}
