package org.balloonlab.hypervisor.machine;

/**
 * The balloon-driver mode an operator asked for (fault injection), passed through to the VM's driver.
 *
 * @param mode one of enabled, disabled, uninstalled, late, slow, stuck
 * @param lateMillis for late: how long the driver stays unavailable after it starts
 * @param pagesPerSecond for slow: the inflation rate cap
 * @param stuckProbability for stuck: the chance per batch of hanging (1 hangs at once)
 */
public record DriverModeRequest(String mode, long lateMillis, long pagesPerSecond, double stuckProbability) {
  public static final java.util.Set<String> MODES =
      java.util.Set.of("enabled", "disabled", "uninstalled", "late", "slow", "stuck");

  public DriverModeRequest {
    if (mode == null || !MODES.contains(mode)) {
      throw MachineException.invalid("unknown driver mode '" + mode + "'; known: enabled, disabled, uninstalled, "
          + "late, slow, stuck");
    }
    if (lateMillis < 0 || pagesPerSecond < 0) {
      throw MachineException.invalid("driver mode parameters cannot be negative");
    }
    if (mode.equals("slow") && pagesPerSecond == 0) {
      throw MachineException.invalid("driver mode slow needs a rate in pages per second");
    }
    if (!(stuckProbability >= 0 && stuckProbability <= 1)) {
      throw MachineException.invalid("stuck probability must be from 0 to 1, got " + stuckProbability);
    }
  }
}
