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
 */
public record GuestSpec(String name, MemorySize memory, MemorySize min, Integer shares, String translation,
                        List<String> workloads, Integer processes, String balloon, Long seed,
                        boolean autostart) {

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
    return f;
  }
}
