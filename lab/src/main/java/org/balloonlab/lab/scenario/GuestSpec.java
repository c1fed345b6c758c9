package org.balloonlab.lab.scenario;

import java.util.ArrayList;
import java.util.List;
import org.balloonlab.units.MemorySize;

/**
 * One guest of a scenario. As for the hypervisor, fields left out are {@code null} and not passed on.
 *
 * @param name the VM's name
 * @param memory its configured memory (ESX's max)
 * @param min memory reserved for it, or {@code null}
 * @param shares its shares, or {@code null}
 * @param translation {@code nested} or {@code shadow}, or {@code null}
 * @param workloads its workloads, each as the guest agent's {@code --workload} takes it; they run side by side
 * @param processes processes running the workload, or {@code null}
 * @param balloon the balloon driver's mode at boot, or {@code null}
 * @param seed seeds the workload, or {@code null}
 * @param autostart whether the launcher starts it at the beginning; if not, a scheduled {@code start} does
 * @param accesses accesses after which the guest stops by itself (its summary then says what they cost), or
 *     {@code null} to run until it is stopped
 * @param slice accesses a process makes before the next one runs, or {@code null}
 * @param tau the VM's own idle memory tax rate, set when it powers on (before its first quantum), or {@code null}
 *     for the machine's
 * @param balloonTarget a balloon target set when it powers on (before its first quantum), or {@code null}
 * @param osKind its {@code os_kind}: guests of one kind boot identical image pages, or {@code null} (linux)
 * @param osImage the size of its OS image, 0 for none, or {@code null} for the guest agent's default
 * @param bootMetadata its boot structures as a fraction of its memory, or {@code null} for Linux's 1/64
 */
public record GuestSpec(String name, MemorySize memory, MemorySize min, Integer shares, String translation,
                        List<String> workloads, Integer processes, String balloon, Long seed,
                        boolean autostart, Long accesses, Integer slice, Double tau, MemorySize balloonTarget,
                        String osKind, MemorySize osImage, Double bootMetadata) {

  /** A guest that starts with the lab and leaves every other field to the guest agent's defaults. */
  public static Builder builder(String name, MemorySize memory, List<String> workloads) {
    return new Builder(name, memory, workloads);
  }

  /** The guest agent's command line for this spec, without {@code --hypervisor}. */
  public List<String> flags() {
    List<String> f = new ArrayList<>(List.of("--name", name, "--memory", memory.toString()));
    for (String workload : workloads) {
      f.add("--workload");
      f.add(workload);
    }
    HypervisorSpec.add(f, "--min", min);
    HypervisorSpec.add(f, "--shares", shares);
    HypervisorSpec.add(f, "--translation", translation);
    HypervisorSpec.add(f, "--processes", processes);
    HypervisorSpec.add(f, "--balloon", balloon);
    HypervisorSpec.add(f, "--seed", seed);
    HypervisorSpec.add(f, "--accesses", accesses);
    HypervisorSpec.add(f, "--slice", slice);
    HypervisorSpec.add(f, "--os-kind", osKind);
    HypervisorSpec.add(f, "--os-image", osImage);
    HypervisorSpec.add(f, "--boot-metadata", bootMetadata);
    return f;
  }

  /**
   * A guest built in code, by the commands that make their scenario from their own options: only what they set
   * is passed on.
   */
  public static final class Builder {
    private final String name;
    private final MemorySize memory;
    private final List<String> workloads;
    private String translation;
    private Integer processes;
    private String balloon;
    private Long seed;
    private Long accesses;
    private Integer slice;

    private Builder(String name, MemorySize memory, List<String> workloads) {
      this.name = name;
      this.memory = memory;
      this.workloads = List.copyOf(workloads);
    }

    public Builder translation(String mode) {
      this.translation = mode;
      return this;
    }

    public Builder processes(int n) {
      this.processes = n;
      return this;
    }

    public Builder balloon(String driverMode) {
      this.balloon = driverMode;
      return this;
    }

    public Builder seed(long n) {
      this.seed = n;
      return this;
    }

    public Builder accesses(long n) {
      this.accesses = n;
      return this;
    }

    public Builder slice(int n) {
      this.slice = n;
      return this;
    }

    public GuestSpec build() {
      return new GuestSpec(name, memory, null, null, translation, workloads, processes, balloon, seed, true,
          accesses, slice, null, null, null, null, null);
    }
  }
}
