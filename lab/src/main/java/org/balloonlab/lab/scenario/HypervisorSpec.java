package org.balloonlab.lab.scenario;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.MemorySize;

/**
 * The hypervisor of a scenario. Fields left out of the file are {@code null} here and are not passed to the
 * hypervisor at all, so it keeps its own default (and a scenario runs on a hypervisor that predates a flag
 * it does not use).
 *
 * @param memory machine memory
 * @param listen the address to bind; port 0 takes a free one
 * @param hostSwap the host swap file's size, or {@code null}
 * @param policy the reclamation policy, {@code esx} or {@code manual}, or {@code null}
 * @param tau the idle memory tax rate, 0 to 0.99, or {@code null}
 * @param samplePages pages sampled per period to estimate a VM's active fraction, or {@code null}
 * @param samplePeriod how often the sampler runs, or {@code null}
 * @param sampleGains weights of a new sample in the fast and the slow average, as {@code --sample-gains} takes
 *     them ({@code 0.5,0.1}), or {@code null}
 * @param policyPeriod lab time between two decisions of the reclamation policy, or {@code null}
 * @param freeHigh free-memory threshold of the high state, percent, or {@code null}
 * @param freeSoft free-memory threshold of the soft state (ballooning), percent, or {@code null}
 * @param freeHard free-memory threshold of the hard state (hypervisor paging), percent, or {@code null}
 * @param freeLow free-memory threshold of the low state (blocking), percent, or {@code null}
 * @param seed seeds the hypervisor's random victim choice, or {@code null}
 * @param balloonStallTimeout how long a balloon may make no progress before the hypervisor pages instead, or
 *     {@code null}
 * @param tlbEntries translations each VM's TLB caches, or {@code null}
 * @param tlbWays the TLB's associativity, or {@code null}
 * @param tlbUntagged {@code true} for a TLB without address-space tags (context switches flush it), or
 *     {@code null}
 * @param diskProfile the disk behind both swaps, {@code ssd} or {@code disk-2002} ({@code --disk-profile}), or
 *     {@code null}
 * @param costs cost-model constants overridden, each as {@code --cost} takes it ({@code vm-exit=2000}); empty
 *     for none
 * @param clock how the hypervisor keeps the lab clock
 * @param sharing content-based page sharing, or {@code null} to leave it to the hypervisor (off)
 * @param metricsPort the port of the hypervisor's Prometheus metrics (0 takes a free one), or {@code null} for none
 */
public record HypervisorSpec(MemorySize memory, HostPort listen, MemorySize hostSwap, String policy, Double tau,
                             Integer samplePages, Duration samplePeriod, String sampleGains,
                             Duration policyPeriod, Double freeHigh, Double freeSoft,
                             Double freeHard, Double freeLow, Long seed, Duration balloonStallTimeout,
                             Integer tlbEntries, Integer tlbWays, Boolean tlbUntagged, String diskProfile,
                             List<String> costs, ClockSpec clock, SharingSpec sharing, Integer metricsPort) {

  /** A hypervisor with this much machine memory and every other field left to the hypervisor's defaults. */
  public static Builder builder(MemorySize memory) {
    return new Builder(memory);
  }

  /** The hypervisor's command line for this spec, without {@code --listen} and {@code --port-file}. */
  public List<String> flags() {
    List<String> f = new ArrayList<>(List.of("--memory", memory.toString()));
    add(f, "--host-swap", hostSwap);
    add(f, "--policy", policy);
    add(f, "--tau", tau);
    add(f, "--sample-pages", samplePages);
    add(f, "--sample-period", samplePeriod == null ? null : samplePeriod.toMillis() + "ms");
    add(f, "--sample-gains", sampleGains);
    add(f, "--policy-period", policyPeriod == null ? null : policyPeriod.toMillis() + "ms");
    add(f, "--free-high", freeHigh);
    add(f, "--free-soft", freeSoft);
    add(f, "--free-hard", freeHard);
    add(f, "--free-low", freeLow);
    add(f, "--seed", seed);
    add(f, "--balloon-stall-timeout", balloonStallTimeout == null ? null : balloonStallTimeout.toMillis() + "ms");
    addTranslationFlags(f);
    clock.addFlags(f);
    if (sharing != null) {
      sharing.addFlags(f);
    }
    add(f, "--metrics-port", metricsPort);
    return f;
  }

  /** The TLB's shape and the cost model's constants: what {@code balloonlab translation} varies. */
  private void addTranslationFlags(List<String> f) {
    add(f, "--tlb-entries", tlbEntries);
    add(f, "--tlb-ways", tlbWays);
    if (Boolean.TRUE.equals(tlbUntagged)) {
      f.add("--tlb-untagged");
    }
    add(f, "--disk-profile", diskProfile);
    for (String cost : costs) {
      add(f, "--cost", cost);
    }
  }

  static void add(List<String> flags, String flag, Object value) {
    if (value != null) {
      flags.add(flag);
      flags.add(value instanceof Double d ? String.format(Locale.ROOT, "%s", d) : value.toString());
    }
  }

  /**
   * A hypervisor built in code, by the commands that make their scenario from their own options: only what they
   * set is passed on.
   */
  public static final class Builder {
    private final MemorySize memory;
    private Duration samplePeriod;
    private Duration balloonStallTimeout;
    private Integer tlbEntries;
    private Integer tlbWays;
    private Boolean tlbUntagged;
    private List<String> costs = List.of();
    private ClockSpec clock = ClockSpec.DEFAULT;

    private Builder(MemorySize memory) {
      this.memory = memory;
    }

    public Builder samplePeriod(Duration period) {
      this.samplePeriod = period;
      return this;
    }

    public Builder balloonStallTimeout(Duration timeout) {
      this.balloonStallTimeout = timeout;
      return this;
    }

    /** The TLB's shape: {@code untagged} makes every guest context switch flush it. */
    public Builder tlb(int entries, int ways, boolean untagged) {
      this.tlbEntries = entries;
      this.tlbWays = ways;
      this.tlbUntagged = untagged;
      return this;
    }

    /** @param assignments cost-model constants as {@code --cost} takes them, such as {@code vm-exit=2000} */
    public Builder costs(List<String> assignments) {
      this.costs = List.copyOf(assignments);
      return this;
    }

    public Builder clock(ClockSpec spec) {
      this.clock = spec;
      return this;
    }

    public HypervisorSpec build() {
      return new HypervisorSpec(memory, null, null, null, null, null, samplePeriod, null, null, null, null, null,
          null, null,
          balloonStallTimeout, tlbEntries, tlbWays, tlbUntagged, null, costs, clock, null, null);
    }
  }
}
