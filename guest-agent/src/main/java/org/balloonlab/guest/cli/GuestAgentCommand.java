package org.balloonlab.guest.cli;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.DoubleSupplier;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.balloon.driver.BalloonHost;
import org.balloonlab.balloon.grpc.GrpcBalloonHost;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.VmName;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.metrics.GuestMetrics;
import org.balloonlab.transport.metrics.MetricsEndpoint;
import org.balloonlab.units.MetricsOptions;
import org.balloonlab.guest.balloon.DrainedBalloonHost;
import org.balloonlab.guest.balloon.GuestBalloonKernel;
import org.balloonlab.guest.grpc.HypervisorLoss;
import org.balloonlab.guest.grpc.MachineConnection;
import org.balloonlab.guest.grpc.PoweredOff;
import org.balloonlab.guest.grpc.RemotePhysicalMemory;
import org.balloonlab.guest.os.GuestBoot;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.os.GuestOutOfMemoryException;
import org.balloonlab.guest.vcpu.Vcpu;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.TranslationMode;
import org.balloonlab.proto.VmState;
import org.balloonlab.swap.SwapDevice;
import org.balloonlab.swap.SwapIoException;
import org.balloonlab.swap.SwapReservationException;
import org.balloonlab.transport.Channels;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.units.CommandLineConverters;
import org.balloonlab.units.ExitCodes;
import org.balloonlab.units.ParentWatch;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.Keepalive;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code guest-agent}: one VM. Powers the VM on at the hypervisor, boots a simulated guest OS on it, runs the
 * workload on its vCPU, prints a status line now and then, and powers the VM off cleanly at the end or on
 * SIGTERM.
 */
@Command(name = "guest-agent", mixinStandardHelpOptions = true, version = "BalloonLab 0.1.0",
    description = "Runs one BalloonLab VM: a simulated guest OS with processes, page tables, clock replacement "
        + "and its own swap, running a workload against memory the hypervisor backs.",
    sortOptions = false,
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {ExitCodes.OK + ":the run ended and every read was checked correct",
        ExitCodes.FAILED + ":integrity or isolation violations were found",
        ExitCodes.USAGE + ":bad command line",
        ExitCodes.CANNOT_START + ":the guest's swap file could not be reserved at start (disk full, directory not "
            + "writable); no VM was powered on",
        ExitCodes.HYPERVISOR_LOST + ":the hypervisor cannot be reached or went away: the connection broke, or went "
            + "silent past --keepalive (a network partition); the hypervisor releases the VM itself",
        ExitCodes.HYPERVISOR_REFUSED + ":the hypervisor refused the power-on, or powered the VM off",
        ExitCodes.SWAP_IO_FAILED + ":the guest's swap failed with an I/O error during the run; the VM was powered "
            + "off",
        ExitCodes.OUT_OF_MEMORY + ":the guest ran out of memory and swap",
        ExitCodes.INTERRUPTED + ":Ctrl-C, or the launcher went away (--exit-with-parent)",
        ExitCodes.TERMINATED + ":stopped by SIGTERM (the VM is powered off cleanly)"})
public final class GuestAgentCommand implements java.util.concurrent.Callable<Integer> {
  /** Printed once the VM is powered on and attached: {@code READY vm_id=3 name=vm1}. */
  public static final String READY = "BALLOONLAB_GUEST_READY ";
  /** Printed at the end: {@code SUMMARY key=value ...}. */
  public static final String SUMMARY = "BALLOONLAB_GUEST_SUMMARY ";
  /** The codes of every process are in {@link ExitCodes}; these name the guest's. */
  public static final int EXIT_VIOLATIONS = ExitCodes.FAILED;
  public static final int EXIT_OUT_OF_MEMORY = ExitCodes.OUT_OF_MEMORY;
  /** The hypervisor refused the guest, or powered its VM off. */
  public static final int EXIT_HYPERVISOR = ExitCodes.HYPERVISOR_REFUSED;
  /** The guest's swap could not be reserved at start: its VM is then never powered on. */
  public static final int EXIT_SWAP_RESERVE = ExitCodes.CANNOT_START;
  /** The guest's swap failed in the run; its VM was powered off. */
  public static final int EXIT_SWAP = ExitCodes.SWAP_IO_FAILED;
  public static final int EXIT_HYPERVISOR_LOST = ExitCodes.HYPERVISOR_LOST;
  /** Free running: the simulated idle time the vCPU charges (and paces) at a time. */
  private static final long IDLE_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  /**
   * How long a balloon call may wait on the network on the lab clock: the hypervisor applies it in its VM's turn,
   * which may come only after a slow VM's next operation (or the straggler grace, 30 s by default, that drops it),
   * and a call given up too soon would change what the driver does next.
   */
  private static final Duration LOCKSTEP_BALLOON_DEADLINE = Duration.ofMinutes(2);
  /** Keeps the driver's dice apart from the workloads' random streams, which the same seed feeds. */
  private static final long DRIVER_SEED_SALT = 0x6261_6c6c_6f6f_6eL;

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--hypervisor", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7400",
      description = "The hypervisor to join (default: ${DEFAULT-VALUE}).")
  HostPort hypervisor;

  @Option(names = "--keepalive", paramLabel = "TIME[,TIMEOUT]", defaultValue = "10s,5s",
      description = "Network keepalive, in wall time: ping the hypervisor when a connection carried nothing for TIME "
          + "and give it up if the answer takes longer than TIMEOUT; the guest then says since when it lost the "
          + "hypervisor and exits with code 6. TIME at least 10s (gRPC's floor), TIMEOUT from 1s to TIME "
          + "(default: ${DEFAULT-VALUE}).")
  Keepalive keepalive;

  @CommandLine.Mixin
  GuestSecurityOptions security = new GuestSecurityOptions();

  @CommandLine.Mixin
  MetricsOptions metrics = new MetricsOptions();

  @Option(names = "--name", required = true, paramLabel = "NAME",
      description = "The VM's name, unique on the hypervisor.")
  String name;

  @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "256MiB",
      description = "The VM's configured memory, such as 512MiB (default: ${DEFAULT-VALUE}).")
  MemorySize memory;

  @Option(names = "--min", paramLabel = "SIZE", defaultValue = "0",
      description = "Memory the hypervisor must reserve for the VM; it is never reclaimed below this, and the VM "
          + "is refused if the machine cannot reserve it (default: ${DEFAULT-VALUE}).")
  MemorySize min;

  @Option(names = "--shares", paramLabel = "N", defaultValue = "0",
      description = "The VM's shares of machine memory; 0 takes the hypervisor's default of 10 per MiB "
          + "(default: ${DEFAULT-VALUE}).")
  long shares;

  @Option(names = "--os-kind", paramLabel = "KIND", defaultValue = "linux",
      description = "Guests of the same kind boot the same image (default: ${DEFAULT-VALUE}).")
  String osKind;

  @Option(names = "--os-image", paramLabel = "SIZE",
      description = "The OS image (kernel text, libraries) written at boot and pinned: identical pages in every "
          + "guest of the same --os-kind; 0 for none (default: 16MiB, or an eighth of --memory if less).")
  MemorySize osImage;

  @Option(names = "--boot-metadata", paramLabel = "RATIO", defaultValue = "0.015625",
      description = "Per-page kernel metadata allocated at boot, as a fraction of --memory, pinned and never "
          + "ballooned (Linux's struct page: 64 bytes per 4 KiB page); 0 to 0.25 (default: ${DEFAULT-VALUE}).")
  double bootMetadata;

  @Option(names = "--workload", paramLabel = "SPEC", defaultValue = "hotset:footprint=128MiB",
      description = "TYPE[:key=value,...]; types sequential, uniform, hotset, phases, idle, files (a file through "
          + "the page cache); keys footprint, writes, accesses, passes, hot, hot-share, sizes, loop, ramp, rate "
          + "(accesses per simulated second), schedule (idle:30s/active:60s/...: when it works, on the guest's "
          + "simulated time), files, file-share, and for every type data-set=NAME,data=SIZE and zero=SIZE. "
          + "Repeat it to run different workloads side by side, each in its own processes "
          + "(default: ${DEFAULT-VALUE}).")
  List<String> workloads;

  @Option(names = "--processes", paramLabel = "N", defaultValue = "1",
      description = "Processes running the workload, each in its own address space (default: ${DEFAULT-VALUE}).")
  int processes;

  @Option(names = "--translation", paramLabel = "MODE", defaultValue = "nested",
      description = "How the hypervisor translates this VM's addresses: nested (EPT/NPT: no exits for page-table "
          + "writes, two-dimensional TLB misses) or shadow (shadow page tables: page-table writes and context "
          + "switches exit) (default: ${DEFAULT-VALUE}).")
  String translation;

  @Option(names = "--swap", paramLabel = "SIZE",
      description = "The guest's swap device (default: twice --memory, or more if the workloads need it). The file "
          + "holds 8 bytes a page, reserved on disk in full at start.")
  MemorySize swapSize;

  @Option(names = "--swap-file", paramLabel = "FILE",
      description = "Where the guest's swap file lives (default: a new file in the temporary directory). It is "
          + "unlinked as soon as it is open, so nothing is left behind however the guest ends.")
  Path swapFile;

  @Option(names = "--duration", paramLabel = "DURATION",
      description = "Stop after this much simulated time, such as 30s (default: when the workload ends).")
  Duration duration;

  @Option(names = "--accesses", paramLabel = "N", defaultValue = "0",
      description = "Stop after this many accesses in all (default: no limit).")
  long accesses;

  @Option(names = "--batch", paramLabel = "N", defaultValue = "16384",
      description = "Accesses per batch sent to the hypervisor (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--window", paramLabel = "N", defaultValue = "4",
      description = "Batches in flight at most (default: ${DEFAULT-VALUE}).")
  int window;

  @Option(names = "--slice", paramLabel = "N", defaultValue = "10000",
      description = "Accesses a process makes before the vCPU switches to the next (default: ${DEFAULT-VALUE}).")
  int slice;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seeds the workloads (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--status-interval", paramLabel = "DURATION", defaultValue = "1s",
      description = "How often to print a status line, in wall-clock time; 0s for none (default: ${DEFAULT-VALUE}).")
  Duration statusInterval;

  @Option(names = "--report-every", paramLabel = "DURATION", defaultValue = "100ms",
      description = "Simulated time between the guest's reports to the hypervisor (default: ${DEFAULT-VALUE}).")
  Duration reportEvery;

  @Option(names = "--balloon", paramLabel = "MODE", defaultValue = "enabled",
      converter = BalloonModeConverter.class,
      description = "The balloon driver's mode: enabled, disabled (loaded, never inflates), uninstalled (never "
          + "connects), late:DURATION (unavailable that long after boot), slow:PAGES_PER_SECOND, "
          + "stuck[:PROBABILITY] (hangs mid-inflation) (default: ${DEFAULT-VALUE}).")
  DriverMode balloonMode;

  @Option(names = "--balloon-cap", paramLabel = "FRACTION", defaultValue = "0.65",
      description = "Most of guest memory the balloon may hold (default: ${DEFAULT-VALUE}).")
  double balloonCap;

  @Option(names = "--balloon-poll", paramLabel = "DURATION", defaultValue = "1s",
      description = "How often the driver asks for its target when no doorbell rings, in simulated time "
          + "(default: ${DEFAULT-VALUE}).")
  Duration balloonPoll;

  @Option(names = "--balloon-batch", paramLabel = "N", defaultValue = "512",
      description = "Pages the driver locks or unlocks per call, at most the hypervisor's limit "
          + "(default: ${DEFAULT-VALUE}).")
  int balloonBatch;

  @Option(names = "--no-verify", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Read back and check every page at the end (default: on).")
  boolean verify = true;

  /** Opens (reserves) the guest's swap; a test substitutes storage that fails on demand. */
  BiFunction<Path, Integer, SwapDevice> swapOpener = SwapDevice::new;

  @Option(names = "--exit-with-parent",
      description = "Stop cleanly (power the VM off) when standard input reaches its end: a launcher keeps a pipe "
          + "to it open for as long as it lives, so the guest ends with its launcher, even one killed by SIGKILL.")
  boolean exitWithParent;

  private final CountDownLatch finished = new CountDownLatch(1);
  /** The VM was powered off under the guest, or the hypervisor is gone: there is nothing left to power off. */
  private boolean poweredOffUnder;
  private volatile Vcpu vcpu;
  private volatile BalloonDriver driver;
  private MetricsEndpoint metricsEndpoint;
  private static volatile boolean shuttingDown;

  public static void main(String[] args) {
    int code = commandLine().execute(args);
    if (!shuttingDown) {
      System.exit(code);
    }
  }

  public static CommandLine commandLine() {
    return CommandLineConverters.register(new CommandLine(new GuestAgentCommand()));
  }

  @Override
  public Integer call() throws Exception {
    CommandLine cl = spec.commandLine();
    PrintWriter out = cl.getOut();
    PrintWriter err = cl.getErr();
    metrics.validate(cl);
    long memoryPages = pages(memory, "--memory");
    long minPages = min.bytes() == 0 ? 0 : pages(min, "--min");
    check(minPages <= memoryPages, "--min " + min + " is more than --memory " + memory);
    check(shares >= 0 && shares <= 1_000_000_000L, "--shares must be from 0 to 1000000000, got " + shares);
    List<WorkloadSpec> workloadSpecs = new ArrayList<>();
    for (String workload : workloads) {
      try {
        workloadSpecs.add(WorkloadSpec.parse(workload));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(cl, "--workload " + workload + ": " + e.getMessage());
      }
    }
    check(workloadSpecs.size() <= 16, "at most 16 --workload options, got " + workloadSpecs.size());
    check(VmName.isValid(osKind), "--os-kind must be " + VmName.RULE + ", got " + VmName.quote(osKind));
    check(bootMetadata >= 0 && bootMetadata <= GuestBoot.MAX_METADATA_RATIO, "--boot-metadata must be from 0 to "
        + GuestBoot.MAX_METADATA_RATIO + ", got " + bootMetadata);
    long imagePages = osImage == null ? GuestBoot.defaultImagePages(memoryPages)
        : osImage.bytes() == 0 ? 0 : pages(osImage, "--os-image");
    check(imagePages <= GuestBoot.MAX_IMAGE_PAGES, "--os-image must be at most 64GiB, got " + osImage);
    GuestBoot boot = new GuestBoot(osKind, (int) imagePages, bootMetadata);
    long pinned = boot.pinnedPages((int) memoryPages);
    check(pinned <= memoryPages / 2, "--os-image and --boot-metadata pin " + MemorySize.humanPages(pinned)
        + " at boot, more than half of --memory " + memory);
    TranslationMode translationMode = switch (translation.toLowerCase(Locale.ROOT)) {
      case "nested" -> TranslationMode.TRANSLATION_MODE_NESTED;
      case "shadow" -> TranslationMode.TRANSLATION_MODE_SHADOW;
      default -> throw new CommandLine.ParameterException(cl, "--translation must be nested or shadow, got '"
          + translation + "'");
    };
    check(processes >= 1 && processes <= 256, "--processes must be from 1 to 256, got " + processes);
    check(batch >= 1 && batch <= 1 << 20, "--batch must be from 1 to 1048576, got " + batch);
    check(window >= 1 && window <= 256, "--window must be from 1 to 256, got " + window);
    check(slice >= 1, "--slice must be positive, got " + slice);
    check(accesses >= 0, "--accesses cannot be negative, got " + accesses);
    check(duration == null || !duration.isZero(), "--duration must be positive");
    check(!statusInterval.isNegative(), "--status-interval cannot be negative");
    check(!reportEvery.isZero() && !reportEvery.isNegative(), "--report-every must be positive");
    check(balloonCap >= 0 && balloonCap <= 1, "--balloon-cap must be from 0 to 1, got " + balloonCap);
    check(!balloonPoll.isZero() && !balloonPoll.isNegative(), "--balloon-poll must be positive");
    check(balloonBatch >= 1 && balloonBatch <= 65536, "--balloon-batch must be from 1 to 65536, got " + balloonBatch);
    long footprint = 0;
    for (WorkloadSpec w : workloadSpecs) {
      footprint += (long) w.footprintPages() * processes;
    }
    long swapPages = swapSize != null ? pages(swapSize, "--swap")
        : Math.max(2 * memoryPages, footprint + memoryPages / 8);
    check(swapPages <= Integer.MAX_VALUE - 8, "--swap is too large");
    check(memoryPages - pinned + swapPages >= footprint, "the workloads touch " + MemorySize.humanPages(footprint)
        + " but memory and swap hold only " + MemorySize.humanPages(memoryPages - pinned + swapPages)
        + "; raise --swap");

    Runtime.getRuntime().addShutdownHook(new Thread(this::onShutdown, "guest-agent-shutdown"));
    if (exitWithParent) {
      ParentWatch.exitWhenStdinCloses(err, "guest-agent: " + name);
    }
    ClientSecurity clientSecurity = security.resolve(cl, System.getenv());
    ManagedChannel channel = MachineConnection.channel(hypervisor.target(), batch, clientSecurity, keepalive);
    // The balloon driver's private channel.
    ManagedChannel balloonChannel = keepalive.applyTo(Channels.builder(hypervisor.target(), clientSecurity)).build();
    GuestCounters counters = new GuestCounters();
    try {
      // Reserved before the VM is powered on: a disk without room is a start-up error that leaves nothing held.
      // A name of this process's own; the file is unlinked as soon as it is open.
      Path swapPath = swapFile != null ? swapFile : Path.of(System.getProperty("java.io.tmpdir"),
          // The name is not checked yet (the hypervisor does that): only safe characters go into a file name.
          "balloonlab-guest-" + name.replaceAll("[^A-Za-z0-9._-]", "_").substring(0, Math.min(64, name.length()))
          + "-" + ProcessHandle.current().pid() + "-"
          + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".swap");
      SwapDevice swapDevice;
      try {
        swapDevice = swapOpener.apply(swapPath, (int) swapPages);
      } catch (SwapReservationException e) {
        err.println("guest-agent: " + name + ": " + e.userMessage(MemorySize.humanPages(swapPages) + " of guest swap"));
        return EXIT_SWAP_RESERVE;
      }
      MachineConnection machine = new MachineConnection(channel);
      PowerOnResponse vm;
      try {
        vm = machine.powerOn(name, osKind, memoryPages, minPages, shares, translationMode);
      } catch (StatusRuntimeException e) {
        swapDevice.close();
        if (unreachable(e)) {
          err.println("guest-agent: cannot reach the hypervisor at " + hypervisor + " to power on " + name + " ("
              + e.getStatus().getCode() + " " + Channels.describe(e) + "); is it running there?");
          return ExitCodes.HYPERVISOR_LOST;
        }
        err.println("guest-agent: the hypervisor at " + hypervisor + " refused to power on " + name + ": "
            + e.getStatus().getCode() + " " + Channels.describe(e));
        return EXIT_HYPERVISOR;
      }
      int code;
      try (SwapDevice swap = swapDevice;
           RemotePhysicalMemory mem = attach(machine, vm, counters, batch, window);
           GuestOs os = new GuestOs(vm.getVmId(), (int) memoryPages, mem, swap, machine.guestCosts(), counters,
               boot)) {
        boolean lockstep = vm.getLabClock().getLockstep();
        Vcpu cpu = new Vcpu(os, new Vcpu.Options(slice, reportEvery.toNanos(), IDLE_TICK_NANOS, accesses,
            duration == null ? 0 : duration.toNanos(), seed), lockstep ? mem.labClock() : null);
        int process = 0;
        for (WorkloadSpec w : workloadSpecs) {
          for (int i = 0; i < processes; i++) {
            cpu.start(name + "-p" + process++, w.create());
          }
        }
        vcpu = cpu;
        BalloonDriver driver = loadDriver(os, cpu, mem, new GrpcBalloonHost(balloonChannel, vm.getVmId(),
            vm.getCredential(), lockstep ? LOCKSTEP_BALLOON_DEADLINE : GrpcBalloonHost.DEFAULT_DEADLINE), lockstep);
        this.driver = driver;
        driver.start();
        if (metrics.enabled()) {
          metricsEndpoint = MetricsEndpoint.start(metrics.bind(), metrics.port(),
              new GuestMetrics(name, cpu::lastStatus, driver::stats));
          out.println("metrics: " + metricsEndpoint.url());
        }
        out.println(READY + "vm_id=" + vm.getVmId() + " name=" + name);
        out.printf("%s: %s of guest memory, %s of swap, %d x %s, %s translation%n", name, memory,
            MemorySize.humanPages(swapPages), processes, String.join(" + ", workloads),
            translation.toLowerCase(Locale.ROOT));
        out.flush();
        Thread printer = statusPrinter(cpu, out);
        code = run(cpu, driver, mem, err);
        printer.interrupt();
        GuestStatus s = cpu.lastStatus();
        try {
          mem.close();
        } catch (StatusRuntimeException e) {
          // The hypervisor went away while the guest stopped: a launcher that dies takes both at once.
          err.println("guest-agent: " + name + " lost its hypervisor at " + hypervisor + " while stopping ("
              + e.getStatus().getCode() + ")");
          code = code == ExitCodes.OK ? ExitCodes.HYPERVISOR_LOST : code;
        }
        VmState last = null;
        try {
          // A hypervisor that went away has nothing left to power off.
          if (!poweredOffUnder && code != ExitCodes.HYPERVISOR_LOST) {
            last = machine.powerOff();
          }
        } catch (StatusRuntimeException e) {
          err.println("guest-agent: the power-off of " + name + " failed: " + e.getStatus().getCode() + " "
              + e.getStatus().getDescription());
        }
        if (s != null) {
          // None when the guest failed before its first report (its swap failed at once, for instance).
          out.println(GuestSummary.line(name, s, last, translation.toLowerCase(Locale.ROOT),
              driver.stats(), counters));
        }
        out.flush();
        if (code == 0 && s != null && (s.integrityViolations() > 0 || s.isolationViolations() > 0)) {
          code = EXIT_VIOLATIONS;
        }
      } catch (AttachFailed e) {
        // The VM is on but never attached: the hypervisor releases it after its --detach-timeout.
        StatusRuntimeException why = e.getCause();
        Optional<HypervisorLoss> lost = HypervisorLoss.from(why, hypervisor.target(), e.poweredOnMillis, 0);
        err.println("guest-agent: " + (lost.isPresent() ? lost.get().line(name) : "the hypervisor refused to attach "
            + name + "'s access stream: " + why.getStatus().getCode() + " " + why.getStatus().getDescription()));
        return lost.isPresent() ? EXIT_HYPERVISOR_LOST : EXIT_HYPERVISOR;
      }
      return code;
    } finally {
      if (metricsEndpoint != null) {
        metricsEndpoint.close();
      }
      BalloonDriver d = driver;
      if (d != null) {
        d.stop();
      }
      balloonChannel.shutdownNow();
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
      balloonChannel.awaitTermination(5, TimeUnit.SECONDS);
      finished.countDown();
    }
  }

  /** The VM's access stream could not be attached; says when the VM was powered on, the hypervisor's last answer. */
  private static final class AttachFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final long poweredOnMillis;

    AttachFailed(StatusRuntimeException cause, long poweredOnMillis) {
      super(cause);
      this.poweredOnMillis = poweredOnMillis;
    }

    @Override
    public synchronized StatusRuntimeException getCause() {
      return (StatusRuntimeException) super.getCause();
    }
  }

  /** Opens and attaches the VM's access stream (a wait on the network with a deadline of its own). */
  private static RemotePhysicalMemory attach(MachineConnection machine, PowerOnResponse vm, GuestCounters counters,
                                             int batch, int window) {
    // Wall time, for the line that says since when a hypervisor that does not answer the attach was silent.
    long poweredOnMillis = System.currentTimeMillis();
    try {
      return machine.openMemory(batch, window, GuestOs.checkerFor(vm.getVmId(), counters));
    } catch (StatusRuntimeException e) {
      throw new AttachFailed(e, poweredOnMillis);
    }
  }

  /**
   * The balloon driver, seeded from {@code --seed}. On the lab clock the vCPU drives it at the start of each
   * quantum and its calls drain the access pipeline first; with a hypervisor that runs free it has a thread of
   * its own and counts its modes' time on the guest's simulated clock.
   */
  private BalloonDriver loadDriver(GuestOs os, Vcpu cpu, RemotePhysicalMemory mem, BalloonHost host,
                                   boolean lockstep) {
    BalloonDriver.Config config = BalloonDriver.Config.defaults(name).withPollInterval(balloonPoll)
        .withBatchPages(balloonBatch).withCapFraction(balloonCap).withInitialMode(balloonMode);
    GuestBalloonKernel kernel = new GuestBalloonKernel(os, cpu);
    DoubleSupplier dice = new SplittableRandom(seed ^ DRIVER_SEED_SALT)::nextDouble;
    if (!lockstep) {
      return new BalloonDriver(kernel, host, config, cpu::simulatedNs, dice);
    }
    BalloonDriver driver = BalloonDriver.driven(kernel, new DrainedBalloonHost(host, mem), config, dice);
    cpu.auditOnTheClock(verify);
    cpu.atQuantumStart(driver::runDue);
    return driver;
  }

  private int run(Vcpu cpu, BalloonDriver driver, RemotePhysicalMemory mem, PrintWriter err) {
    try {
      cpu.run();
      // The guest is going away: its balloon stays as it is, and the driver must not touch the OS any more.
      driver.stop();
      if (verify) {
        cpu.verifyAll();
      }
      return 0;
    } catch (GuestOutOfMemoryException e) {
      err.println("guest-agent: " + name + " is out of memory: " + e.getMessage());
      return EXIT_OUT_OF_MEMORY;
    } catch (SwapIoException e) {
      // The guest cannot go on without its swap; the caller powers its VM off, so the hypervisor holds nothing.
      driver.stop();
      err.println("guest-agent: " + name + "'s swap failed, stopping and powering the VM off: " + e.getMessage());
      return EXIT_SWAP;
    } catch (StatusRuntimeException e) {
      String why = e.getStatus().getDescription();
      if (PoweredOff.from(e).isPresent()) {
        // An operator (balloonlab poweroff) or the hypervisor powered the VM off under the guest.
        poweredOffUnder = true;
        err.println("guest-agent: " + name + " was powered off by the hypervisor (" + why + "); stopping");
        return EXIT_HYPERVISOR;
      }
      Optional<HypervisorLoss> lost = HypervisorLoss.from(e, hypervisor.target(), mem.lastHeardMillis(),
          mem.failedAtMillis());
      if (lost.isPresent()) {
        // Nothing to audit or power off through a connection that is gone: the hypervisor releases the VM itself.
        poweredOffUnder = true;
        err.println("guest-agent: " + lost.get().line(name));
        return EXIT_HYPERVISOR_LOST;
      }
      err.println("guest-agent: the hypervisor ended " + name + "'s access stream: " + e.getStatus().getCode() + " "
          + why);
      return EXIT_HYPERVISOR;
    }
  }

  private Thread statusPrinter(Vcpu cpu, PrintWriter out) {
    Thread t = new Thread(() -> {
      if (statusInterval.isZero()) {
        return;
      }
      try {
        while (!Thread.currentThread().isInterrupted()) {
          // The wall clock paces a display only; what it prints is the guest's last report, on simulated time.
          Thread.sleep(statusInterval.toMillis());
          GuestStatus s = cpu.lastStatus();
          if (s != null) {
            out.println(statusLine(s));
            out.flush();
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "status-printer");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private String statusLine(GuestStatus s) {
    BalloonDriver d = driver;
    String balloon = d == null ? "-" : MemorySize.humanPages(d.size()) + " of target "
        + MemorySize.humanPages(d.stats().targetPages());
    return String.format(Locale.ROOT,
        "%s sim=%.3fs accesses=%d faults=%d (major %d) pageouts=%d free=%s swap=%s balloon=%s violations=%d/%d [%s]",
        name, s.simulatedNs() / 1e9, s.accesses(), s.trueFaults(), s.majorFaults(), s.pageOuts(),
        MemorySize.humanPages(s.freePages()), MemorySize.humanPages(s.swapUsedPages()), balloon,
        s.integrityViolations(), s.isolationViolations(), s.workload());
  }

  private void onShutdown() {
    shuttingDown = true;
    // A wall-clock bound on how long a shutdown waits for the guest's audit and power-off. A guest stopped while it
    // boots (its launcher gone at that moment) has no vCPU yet: it is stopped as soon as it has one.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    Vcpu stopped = null;
    try {
      do {
        Vcpu cpu = vcpu;
        if (cpu != null && cpu != stopped) {
          cpu.stop();
          stopped = cpu;
        }
      } while (!finished.await(50, TimeUnit.MILLISECONDS) && System.nanoTime() < deadline);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private long pages(MemorySize size, String option) {
    try {
      long p = size.requirePages(option);
      check(p <= 1L << 28, option + " " + size + " is more than a VM may have (1TiB)");
      return p;
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /** Whether a call failed because the hypervisor is not there (gone, or never reached), not because it refused. */
  private static boolean unreachable(StatusRuntimeException e) {
    io.grpc.Status.Code c = e.getStatus().getCode();
    return c == io.grpc.Status.Code.UNAVAILABLE || c == io.grpc.Status.Code.DEADLINE_EXCEEDED
        || c == io.grpc.Status.Code.CANCELLED;
  }

  private void check(boolean ok, String message) {
    if (!ok) {
      throw new CommandLine.ParameterException(spec.commandLine(), message);
    }
  }
}
