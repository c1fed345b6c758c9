package org.balloonlab.lab.scenario;

import java.time.Duration;

/**
 * Something the launcher does to the lab at a given time after the guests are up: an operator's order through
 * the management service, or a fault done to a guest's process.
 *
 * @param at when, from the start of the run
 * @param kind what
 * @param vm the VM it concerns; empty for a machine-wide {@code tau}
 * @param argument the driver mode for {@code driver}, the target for {@code balloon}, the rate for {@code tau};
 *     empty otherwise
 * @param line where the file asks for it, for messages; 0 for what a guest's own fields ask for at its power-on
 */
public record ScheduledAction(Duration at, Kind kind, String vm, String argument, int line) {
  /** What a scheduled action does. */
  public enum Kind {
    /** Switch the VM's balloon driver to the mode in {@code argument} (fault injection). */
    DRIVER,
    /** Set the VM's balloon target to the size in {@code argument}. */
    BALLOON,
    /** Power the VM off through the hypervisor. */
    POWEROFF,
    /** Kill the guest's JVM with SIGKILL, as a crash would. */
    KILL,
    /** Start a guest that does not start at the beginning. */
    START,
    /** Set the idle memory tax rate in {@code argument}: the machine's, or the VM's own if a VM is named. */
    TAU
  }

  /** How the action reads in the live view and the report: {@code driver vm2 disabled}. */
  public String describe() {
    return kind.name().toLowerCase(java.util.Locale.ROOT) + (vm.isEmpty() ? "" : " " + vm)
        + (argument.isEmpty() ? "" : " " + argument);
  }
}
