package org.balloonlab.hypervisor.machine;

import java.nio.file.Path;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.hypervisor.time.CostModel;

/**
 * How to build a machine.
 *
 * @param frames machine memory in 4 KiB frames
 * @param hostSwapSlots pages the host swap file can hold
 * @param hostSwapFile where the host swap file lives (created, and removed on close)
 * @param maxBatchAccesses largest batch a VM may send
 * @param costs the cost model
 * @param seed seeds victim selection, so a run can be repeated
 * @param balloonBatchPages most PFNs a balloon lock or unlock may carry
 * @param balloonStallNanos a driver that makes no progress toward its target for this long is uncooperative
 * @param reclamation the reclamation policy and its constants
 * @param quotas the limits on VMs, configured memory and translation tables ({@code null}: the defaults)
 * @param sharing content-based page sharing ({@code null}: off)
 */
public record MachineConfig(int frames, int hostSwapSlots, Path hostSwapFile, int maxBatchAccesses,
                            CostModel costs, long seed, int balloonBatchPages, long balloonStallNanos,
                            ReclamationSettings reclamation, Quotas quotas, SharingSettings sharing) {
  /** The balloon's defaults: batches of 512 pages, a driver is uncooperative after 10 s without progress. */
  public static final int DEFAULT_BALLOON_BATCH = 512;
  public static final long DEFAULT_BALLOON_STALL_NANOS = 10_000_000_000L;

  public MachineConfig {
    if (frames <= 0) {
      throw new IllegalArgumentException("machine memory must hold at least one frame");
    }
    if (hostSwapSlots <= 0) {
      throw new IllegalArgumentException("host swap must hold at least one page");
    }
    if (maxBatchAccesses <= 0) {
      throw new IllegalArgumentException("the batch limit must be positive, got " + maxBatchAccesses);
    }
    if (balloonBatchPages <= 0) {
      throw new IllegalArgumentException("the balloon batch limit must be positive, got " + balloonBatchPages);
    }
    if (balloonStallNanos <= 0) {
      throw new IllegalArgumentException("the balloon stall timeout must be positive");
    }
    if (reclamation == null) {
      throw new IllegalArgumentException("reclamation settings are required");
    }
    if (quotas == null) {
      quotas = Quotas.defaults(frames);
    }
    if (sharing == null) {
      sharing = SharingSettings.OFF;
    }
  }

  public MachineConfig(int frames, int hostSwapSlots, Path hostSwapFile, int maxBatchAccesses, CostModel costs,
                       long seed, int balloonBatchPages, long balloonStallNanos, ReclamationSettings reclamation,
                       Quotas quotas) {
    this(frames, hostSwapSlots, hostSwapFile, maxBatchAccesses, costs, seed, balloonBatchPages, balloonStallNanos,
        reclamation, quotas, null);
  }

  /** This config with page sharing as {@code settings} says. */
  public MachineConfig withSharing(SharingSettings settings) {
    return new MachineConfig(frames, hostSwapSlots, hostSwapFile, maxBatchAccesses, costs, seed, balloonBatchPages,
        balloonStallNanos, reclamation, quotas, settings);
  }

  public MachineConfig(int frames, int hostSwapSlots, Path hostSwapFile, int maxBatchAccesses, CostModel costs,
                       long seed, int balloonBatchPages, long balloonStallNanos, ReclamationSettings reclamation) {
    this(frames, hostSwapSlots, hostSwapFile, maxBatchAccesses, costs, seed, balloonBatchPages, balloonStallNanos,
        reclamation, null);
  }

  public MachineConfig(int frames, int hostSwapSlots, Path hostSwapFile, int maxBatchAccesses, CostModel costs,
                       long seed, int balloonBatchPages, long balloonStallNanos) {
    this(frames, hostSwapSlots, hostSwapFile, maxBatchAccesses, costs, seed, balloonBatchPages, balloonStallNanos,
        ReclamationSettings.ESX);
  }

  public MachineConfig(int frames, int hostSwapSlots, Path hostSwapFile, int maxBatchAccesses, CostModel costs,
                       long seed) {
    this(frames, hostSwapSlots, hostSwapFile, maxBatchAccesses, costs, seed, DEFAULT_BALLOON_BATCH,
        DEFAULT_BALLOON_STALL_NANOS);
  }
}
