package org.balloonlab.hypervisor.policy;

import org.balloonlab.domain.PolicyNames;

/**
 * Every constant of automatic reclamation, with ESX's defaults. See docs/reclamation.md.
 *
 * @param policy {@code esx} (shares per page with the idle memory tax) or {@code manual} (targets by hand)
 * @param tau the idle memory tax rate, 0..0.99 (0.75)
 * @param samplePages pages sampled per period to estimate a VM's active fraction (100)
 * @param samplePeriodNs simulated length of a sampling period (30 s)
 * @param fastGain weight of a new sample in the fast moving average (0.5)
 * @param slowGain weight of a new sample in the slow moving average (0.1)
 * @param thresholds the free-memory states' thresholds and hysteresis (6, 4, 2, 1 % and 1 point)
 * @param periodNanos wall time between two policy decisions (200 ms)
 */
public record ReclamationSettings(String policy, double tau, int samplePages, long samplePeriodNs,
                                  double fastGain, double slowGain, FreeMemoryThresholds thresholds,
                                  long periodNanos) {
  public static final ReclamationSettings ESX = new ReclamationSettings(PolicyNames.ESX, 0.75, 100, 30_000_000_000L,
      0.5, 0.1, FreeMemoryThresholds.ESX, 200_000_000L);
  /** The highest idle memory tax rate: an idle page then costs a hundred active ones. */
  public static final double MAX_TAU = 0.99;
  /** Targets by hand only, the lab's setting for experiments on the balloon itself. */
  public static final ReclamationSettings MANUAL = ESX.withPolicy(PolicyNames.MANUAL);

  public ReclamationSettings {
    if (!PolicyNames.isKnown(policy)) {
      throw new IllegalArgumentException("unknown reclamation policy '" + policy + "' (" + PolicyNames.CHOICES
          + ")");
    }
    if (!(tau >= 0 && tau <= 0.99)) {
      throw new IllegalArgumentException("the idle memory tax rate tau must be from 0 to 0.99, got " + tau);
    }
    if (samplePages <= 0 || samplePages > 1_000_000) {
      throw new IllegalArgumentException("sample pages must be from 1 to 1000000, got " + samplePages);
    }
    if (samplePeriodNs <= 0 || periodNanos <= 0) {
      throw new IllegalArgumentException("the sample period and the policy period must be positive");
    }
    if (!(slowGain > 0 && slowGain <= fastGain && fastGain <= 1)) {
      throw new IllegalArgumentException("moving-average gains must satisfy 0 < slow <= fast <= 1, got fast "
          + fastGain + ", slow " + slowGain);
    }
  }

  public ReclamationSettings withPolicy(String name) {
    return new ReclamationSettings(name, tau, samplePages, samplePeriodNs, fastGain, slowGain, thresholds,
        periodNanos);
  }

  /** The policy these settings name. */
  public ReclamationPolicy newPolicy() {
    return policy.equals(PolicyNames.ESX) ? new SharesPolicy(tau) : new ManualPolicy();
  }
}
