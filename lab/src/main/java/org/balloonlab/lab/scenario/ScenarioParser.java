package org.balloonlab.lab.scenario;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.balloonlab.hypervisor.machine.SharingSettings;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.hypervisor.time.DiskProfile;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.PolicyNames;
import org.balloonlab.domain.VmName;
import org.balloonlab.guest.os.BootStructures;
import org.balloonlab.guest.os.GuestBoot;
import org.balloonlab.guest.os.Token;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.MemorySize;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * Reads a scenario file (YAML) into a {@link Scenario}, checking every field.
 *
 * <p>The file is composed into YAML nodes, not loaded into maps, because nodes keep where they were written:
 * every problem is reported as {@code file:line: field: what is wrong}, with the field's path
 * ({@code guests[1].memory}). Unknown keys are errors (a misspelt key would otherwise be silently ignored), and
 * all problems are collected before failing, so one run lists everything to fix.
 *
 * <p>This class holds the rules of the top level, the hypervisor, the guests and the report; {@code YamlFields}
 * reads a mapping field by field with line numbers, {@code WorkloadField} a guest's workloads and
 * {@code ScheduleReader} the schedule. The whole syntax:
 *
 * <pre>
 * name: overcommit                 # optional, names the run's folder (default: the file's name)
 * description: what to look at     # optional
 * duration: 30s                    # lab time (simulated), from when every guest is up
 * hypervisor:
 *   memory: 256MiB
 *   listen: 127.0.0.1:0            # optional; port 0 takes a free port
 *   host-swap: 1GiB                # optional
 *   policy: esx                    # optional: esx | manual, with tau (0..0.99), sample-pages, sample-period,
 *                                  # sample-gains: {fast: 0.5, slow: 0.1}, policy-period (lab time between two
 *                                  # decisions), free: {...}, balloon-stall-timeout
 *   seed: 1                        # optional
 *   tlb-entries: 1536              # optional, with tlb-ways and tlb-untagged: each VM's TLB
 *   disk-profile: disk-2002        # optional: ssd (default) | disk-2002: the disk behind both swaps
 *   cost: {vm-exit: 2000}          # optional: cost-model constants in ns, named as --cost names them (after
 *                                  # the disk profile)
 *   pace: max                      # optional: max (default) | 1x | a factor such as 0.5x: simulated per wall time
 *   quantum: 10ms                  # optional: lab time between two boundaries of the lab clock (1ms to 1s)
 *   straggler-grace: 30s           # optional: wall time before a VM that stops answering is dropped
 *   lab-clock: lockstep            # optional: lockstep (default) | free (no quanta, nothing reproducible)
 *   sharing: {enabled: true}       # optional: page sharing; scan-rate, scan-max (pages a simulated second per VM
 *                                  # and machine-wide), share-before-paging (docs/page-sharing.md)
 *   metrics-port: 0                # optional: serve Prometheus metrics on loopback, 0 = a free port (printed)
 * guests:
 *   - name: vm1
 *     memory: 192MiB               # or max; min, shares, translation (nested | shadow), processes, seed
 *     workload: hotset:footprint=160MiB    # or a map: {type: hotset, footprint: 160MiB, hot: 0.25}; any but
 *                                  # idle takes schedule=idle:30s/active:60s (when it works, on guest time)
 *     balloon: enabled             # the driver's mode at boot
 *     accesses: 4000000            # optional: the guest stops by itself after that many; slice: 10000
 *     autostart: true              # false: started by a scheduled start
 *     tau: 0                       # optional: the VM's own idle memory tax rate, set at its power-on
 *     balloon-target: 64MiB        # optional: a balloon target set at its power-on, before its first quantum
 *                                  # (both become scheduled actions at its start: lab time 0, or its start's)
 *     os-kind: linux               # optional: guests of one kind boot identical OS image pages
 *     os-image: 16MiB              # optional: the image's size (0 for none; default 16MiB or memory/8)
 *     boot-metadata: 0.015625      # optional: boot structures as a fraction of memory (Linux's struct page)
 * schedule:                        # at: lab time
 *   - {at: 10s, action: driver, vm: vm1, mode: disabled}
 *   - {at: 15s, action: balloon, vm: vm1, target: 64MiB}
 *   - {at: 20s, action: poweroff | kill | start, vm: vm1}
 *   - {at: 60s, action: tau, tau: 0.75}            # the machine's idle memory tax rate; with vm: that VM's own
 * report: {interval: 1s, plots: true, dir: runs}   # interval: lab time between two samples
 * </pre>
 */
public final class ScenarioParser {
  private static final Duration MAX_DURATION = Duration.ofHours(24);

  private final Problems problems;

  private ScenarioParser(String file) {
    this.problems = new Problems(file);
  }

  /** Reads and checks a scenario file. @throws ScenarioException listing every problem found */
  public static Scenario parse(Path path) throws ScenarioException, IOException {
    String text = Files.readString(path, StandardCharsets.UTF_8);
    String name = path.getFileName().toString().replaceFirst("\\.ya?ml$", "");
    return parse(new StringReader(text), path.toString(), name);
  }

  /**
   * Reads and checks a scenario.
   *
   * @param source names the file in messages
   * @param defaultName the scenario's name if it gives none
   */
  public static Scenario parse(Reader reader, String source, String defaultName) throws ScenarioException {
    return new ScenarioParser(source).read(reader, defaultName);
  }

  private Scenario read(Reader reader, String defaultName) throws ScenarioException {
    String file = problems.file();
    Optional<Node> root;
    try {
      root = new Compose(LoadSettings.builder().setLabel(file).setAllowDuplicateKeys(true).build())
          .composeReader(reader);
    } catch (MarkedYamlEngineException e) {
      int line = e.getProblemMark().or(e::getContextMark).map(m -> m.getLine() + 1).orElse(1);
      throw new ScenarioException(List.of(file + ":" + line + ": not valid YAML: " + e.getProblem()));
    } catch (YamlEngineException e) {
      throw new ScenarioException(List.of(file + ":1: not valid YAML: " + e.getMessage()));
    }
    if (root.isEmpty()) {
      throw new ScenarioException(List.of(file + ":1: the file is empty; a scenario needs at least a hypervisor "
          + "and a guest"));
    }
    YamlFields top = YamlFields.of(root.get(), "", "the scenario", problems);
    if (top == null) {
      throw problems.failure();
    }
    String name = top.string("name", false, null);
    if (name != null && !VmName.isValid(name)) {
      top.problem("name", "\"" + name + "\" must be " + VmName.RULE);
    }
    String description = top.string("description", false, "");
    Duration duration = top.duration("duration", true, null);
    if (duration != null && (duration.isZero() || duration.compareTo(MAX_DURATION) > 0)) {
      top.problem("duration", duration.toSeconds() + "s must be more than 0 and at most 24h");
    }
    HypervisorSpec hypervisor = top.nested("hypervisor", true, ScenarioParser::hypervisor);
    List<GuestSpec> guests = top.list("guests", true, ScenarioParser::guest, new ArrayList<>());
    if (guests != null && guests.isEmpty()) {
      top.problem("guests", "a scenario needs at least one guest");
    }
    // The actions that could be read are checked against the guests even if others could not.
    List<ScheduledAction> readable = new ArrayList<>();
    List<ScheduledAction> actions = top.list("schedule", false, ScheduleReader::action, readable);
    Scenario.ReportSpec report = top.nested("report", false, ScenarioParser::report);
    top.finish();
    if (guests != null) {
      checkGuestNames(top, guests);
      ScheduleReader.check(guests, readable, duration, problems);
    }
    if (!problems.isEmpty()) {
      throw problems.failure();
    }
    List<ScheduledAction> sorted = new ArrayList<>(actions == null ? List.of() : actions);
    sorted.addAll(ScheduleReader.atPowerOn(guests, sorted));
    // A stable sort: an action a guest's fields ask for at its power-on comes after the start that powers it on.
    sorted.sort(Comparator.comparing(ScheduledAction::at));
    return new Scenario(name != null ? name : defaultName, file, description, hypervisor, List.copyOf(guests),
        List.copyOf(sorted), duration, report == null ? Scenario.ReportSpec.DEFAULT : report);
  }

  private static HypervisorSpec hypervisor(YamlFields f) {
    MemorySize memory = f.size("memory", true);
    HostPort listen = f.parsed("listen", false, "an address", "use host:port, such as 0.0.0.0:7400",
        HostPort::parse);
    MemorySize hostSwap = f.size("host-swap", false);
    String policy = f.choice("policy", false, PolicyNames.ALL);
    Double tau = f.number("tau", false, 0, 0.99);
    Long samplePages = f.integer("sample-pages", false, 1, 1_000_000);
    Duration samplePeriod = positive(f, "sample-period");
    String sampleGains = sampleGains(f.map("sample-gains", false));
    Duration policyPeriod = positive(f, "policy-period");
    Double[] free = new Double[4];
    YamlFields thresholds = f.map("free", false);
    if (thresholds != null) {
      String[] names = {"high", "soft", "hard", "low"};
      for (int i = 0; i < names.length; i++) {
        free[i] = thresholds.number(names[i], false, 0, 100);
      }
      thresholds.finish();
      for (int i = 1; i < names.length; i++) {
        if (free[i - 1] != null && free[i] != null && free[i] > free[i - 1]) {
          thresholds.problem(names[i], free[i] + "% is above " + names[i - 1] + " (" + free[i - 1]
              + "%); thresholds go down from high to low");
        }
      }
    }
    Long seed = f.integer("seed", false, Long.MIN_VALUE, Long.MAX_VALUE);
    Duration stall = f.duration("balloon-stall-timeout", false, null);
    Long tlbEntries = f.integer("tlb-entries", false, 1, TlbConfig.MAX_ENTRIES);
    Long tlbWays = f.integer("tlb-ways", false, 1, TlbConfig.MAX_WAYS);
    if (tlbEntries != null || tlbWays != null) {
      try {
        // The hypervisor's own rule, with its default for the one left out.
        new TlbConfig(tlbEntries != null ? tlbEntries.intValue() : TlbConfig.DEFAULT.entries(),
            tlbWays != null ? tlbWays.intValue() : TlbConfig.DEFAULT.ways(), true);
      } catch (IllegalArgumentException e) {
        f.problem(tlbWays != null ? "tlb-ways" : "tlb-entries", e.getMessage());
      }
    }
    Boolean tlbUntagged = f.bool("tlb-untagged", false);
    String diskProfile = f.choice("disk-profile", false, DiskProfile.labels());
    List<String> costs = costs(f.map("cost", false));
    ClockSpec clock = clock(f);
    SharingSpec sharing = sharing(f.map("sharing", false));
    Long metricsPort = f.integer("metrics-port", false, 0, 65535);
    f.finish();
    if (memory == null) {
      return null;
    }
    return new HypervisorSpec(memory, listen, hostSwap, policy, tau,
        samplePages == null ? null : samplePages.intValue(), samplePeriod, sampleGains, policyPeriod, free[0], free[1],
        free[2], free[3], seed,
        stall, tlbEntries == null ? null : tlbEntries.intValue(), tlbWays == null ? null : tlbWays.intValue(),
        tlbUntagged, diskProfile, costs, clock, sharing,
        metricsPort == null ? null : metricsPort.intValue());
  }

  /**
   * {@code sharing: {enabled: true, scan-rate: 2000, scan-max: 20000, share-before-paging: true}}: page sharing;
   * {@code enabled} is required, the rates are pages a simulated second from 1 to {@link SharingSettings#MAX_RATE}.
   */
  private static SharingSpec sharing(YamlFields f) {
    if (f == null) {
      return null;
    }
    Boolean enabled = f.bool("enabled", true);
    Long rate = f.integer("scan-rate", false, 1, SharingSettings.MAX_RATE);
    Long max = f.integer("scan-max", false, 1, SharingSettings.MAX_RATE);
    Boolean beforePaging = f.bool("share-before-paging", false);
    f.finish();
    if (enabled == null) {
      return null;
    }
    return new SharingSpec(enabled, rate == null ? null : rate.intValue(), max == null ? null : max.intValue(),
        beforePaging);
  }

  /** A duration that must be more than 0 (and at most a day), or {@code null} if left out or wrong. */
  private static Duration positive(YamlFields f, String key) {
    Duration d = f.duration(key, false, null);
    if (d != null && (d.isZero() || d.compareTo(MAX_DURATION) > 0)) {
      f.problem(key, d.toMillis() + "ms must be more than 0 and at most 24h");
      return null;
    }
    return d;
  }

  /**
   * {@code sample-gains: {fast: 0.5, slow: 0.1}}: the weights of a new sample in the sampler's moving averages,
   * as {@code --sample-gains} takes them ({@code 0.5,0.1}); both are needed, with 0 < slow <= fast <= 1.
   */
  private static String sampleGains(YamlFields f) {
    if (f == null) {
      return null;
    }
    Double fast = f.number("fast", true, 0, 1);
    Double slow = f.number("slow", true, 0, 1);
    f.finish();
    if (fast == null || slow == null) {
      return null;
    }
    if (!(slow > 0 && slow <= fast)) {
      f.problem("slow", plainNumber(slow) + " must be more than 0 and at most fast (" + plainNumber(fast) + ")");
      return null;
    }
    return plainNumber(fast) + "," + plainNumber(slow);
  }

  private static String plainNumber(double d) {
    return java.math.BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
  }

  /** The lab clock's fields of the hypervisor. */
  private static ClockSpec clock(YamlFields f) {
    String mode = f.choice("lab-clock", false, List.of("lockstep", "free"));
    Duration quantum = f.duration("quantum", false, null);
    if (quantum != null && (quantum.compareTo(ClockSpec.MIN_QUANTUM) < 0
        || quantum.compareTo(ClockSpec.MAX_QUANTUM) > 0)) {
      f.problem("quantum", quantum.toMillis() + "ms must be from " + ClockSpec.MIN_QUANTUM.toMillis() + "ms to "
          + ClockSpec.MAX_QUANTUM.toSeconds() + "s");
      quantum = null;
    }
    String pace = f.parsed("pace", false, "a pace", null, ClockSpec::parsePace);
    Duration grace = f.duration("straggler-grace", false, null);
    if (grace != null && (grace.isZero() || grace.compareTo(MAX_DURATION) > 0)) {
      f.problem("straggler-grace", grace.toSeconds() + "s must be more than 0 and at most 24h");
      grace = null;
    }
    boolean lockstep = !"free".equals(mode);
    if (!lockstep) {
      // Without quanta these would be silently ignored; the reader asked for something the clock will not do.
      for (String key : List.of("quantum", "pace", "straggler-grace")) {
        if (f.has(key)) {
          f.problem(key, "has no effect with lab-clock: free (the hypervisor runs on wall time)");
        }
      }
    }
    // A field that was wrong is a problem already, which fails the whole file.
    return new ClockSpec(lockstep, quantum, pace != null ? pace : ClockSpec.DEFAULT.pace(), grace);
  }

  /** {@code cost: {vm-exit: 2000, tlb-hit: 2}}: cost-model constants in nanoseconds, as {@code --cost} takes them. */
  private static List<String> costs(YamlFields f) {
    List<String> assignments = new ArrayList<>();
    if (f != null) {
      for (String name : CostModel.names()) {
        Long ns = f.integer(name, false, 0, Long.MAX_VALUE);
        if (ns != null) {
          assignments.add(name + "=" + ns);
        }
      }
      f.finish();
    }
    return List.copyOf(assignments);
  }

  private static GuestSpec guest(YamlFields f) {
    String name = f.string("name", true, null);
    if (name != null && !VmName.isValid(name)) {
      f.problem("name", "\"" + name + "\" must be " + VmName.RULE);
    }
    MemorySize memory = f.size("memory", false);
    MemorySize max = f.size("max", false);
    if (!f.has("memory") && !f.has("max")) {
      f.problem("memory", "missing; every guest needs its configured memory (memory or max), such as 256MiB");
    } else if (memory != null && max != null && memory.bytes() != max.bytes()) {
      f.problem("max", max + " differs from memory " + memory + "; max is the configured size, give one of them");
    }
    MemorySize size = memory != null ? memory : max;
    MemorySize min = f.size("min", false);
    if (min != null && size != null && min.bytes() > size.bytes()) {
      f.problem("min", min + " is more than the guest's memory " + size);
    }
    Long shares = f.integer("shares", false, 1, 1_000_000_000);
    String translation = f.choice("translation", false, List.of("nested", "shadow"));
    List<String> workload = WorkloadField.read(f, "workload");
    Long processes = f.integer("processes", false, 1, 256);
    String balloon = driverMode(f, "balloon", false);
    Long seed = f.integer("seed", false, Long.MIN_VALUE, Long.MAX_VALUE);
    Boolean autostart = f.bool("autostart", false);
    Long accesses = f.integer("accesses", false, 1, Long.MAX_VALUE);
    Long slice = f.integer("slice", false, 1, Integer.MAX_VALUE);
    Double tau = f.number("tau", false, 0, 0.99);
    MemorySize balloonTarget = f.size("balloon-target", false);
    if (balloonTarget != null && size != null
        && balloonTarget.bytes() > size.bytes() - (min == null ? 0 : min.bytes())) {
      f.problem("balloon-target", balloonTarget + " is more than the guest's memory " + size
          + (min == null ? "" : " minus its min " + min));
    }
    String osKind = f.string("os-kind", false, null);
    if (osKind != null && !VmName.isValid(osKind)) {
      f.problem("os-kind", VmName.quote(osKind) + " must be " + VmName.RULE);
    }
    MemorySize osImage = f.size("os-image", false);
    if (osImage != null && osImage.bytes() / 4096 > Token.MAX_CONTENT_INDEX + 1L) {
      f.problem("os-image", osImage + " is more than 64GiB");
      osImage = null;
    }
    Double bootMetadata = f.number("boot-metadata", false, 0, GuestBoot.MAX_METADATA_RATIO);
    if (size != null && (osImage != null || bootMetadata != null)) {
      long pages = size.bytes() / 4096;
      long pinned = BootStructures.pagesFor(pages, bootMetadata == null ? BootStructures.DEFAULT_RATIO : bootMetadata)
          + (osImage == null ? GuestBoot.defaultImagePages(pages) : osImage.bytes() / 4096);
      if (pinned > pages / 2) {
        f.problem(osImage != null ? "os-image" : "boot-metadata", "the OS image and boot structures would pin "
            + MemorySize.humanPages(pinned) + ", more than half of the guest's memory " + size);
      }
    }
    f.finish();
    if (name == null || size == null || workload == null) {
      return null;
    }
    return new GuestSpec(name, size, min, shares == null ? null : shares.intValue(), translation, workload,
        processes == null ? null : processes.intValue(), balloon, seed, autostart == null || autostart, accesses,
        slice == null ? null : slice.intValue(), tau, balloonTarget, osKind, osImage, bootMetadata);
  }

  private static Scenario.ReportSpec report(YamlFields f) {
    Duration interval = f.duration("interval", false, Scenario.ReportSpec.DEFAULT.sampleInterval());
    if (interval != null && (interval.toMillis() < 100 || interval.toSeconds() > 60)) {
      f.problem("interval", interval.toMillis() + "ms must be from 100ms to 60s");
    }
    Boolean plots = f.bool("plots", false);
    String dir = f.string("dir", false, Scenario.ReportSpec.DEFAULT.directory());
    f.finish();
    return new Scenario.ReportSpec(interval == null ? Scenario.ReportSpec.DEFAULT.sampleInterval() : interval,
        plots == null || plots, dir == null ? Scenario.ReportSpec.DEFAULT.directory() : dir);
  }

  private static void checkGuestNames(YamlFields top, List<GuestSpec> guests) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < guests.size(); i++) {
      if (!seen.add(guests.get(i).name())) {
        top.problemAt(top.lineOfListItem("guests", i), "guests[" + i + "].name", "\"" + guests.get(i).name()
            + "\" is used by another guest; names must be unique");
      }
    }
  }

  /** A balloon driver mode, checked by the one parser every module uses, kept as users write it. */
  static String driverMode(YamlFields f, String key, boolean required) {
    return f.parsed(key, required, "a driver mode", null, text -> DriverMode.parse(text).toString());
  }
}
