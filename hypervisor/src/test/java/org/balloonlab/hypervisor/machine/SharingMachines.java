package org.balloonlab.hypervisor.machine;

import java.nio.file.Path;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.hypervisor.time.CostModel;

/** The machine the page-sharing tests run on: manual policy, default balloon settings and quotas, seed 42. */
final class SharingMachines {
  private SharingMachines() {
  }

  /** A machine of {@code frames} frames and {@code slots} host swap slots in {@code swapFile}, sharing as given. */
  static Machine machine(int frames, int slots, Path swapFile, CostModel costs, SharingSettings sharing) {
    return new Machine(new MachineConfig(frames, slots, swapFile, 4096, costs, 42,
        MachineConfig.DEFAULT_BALLOON_BATCH, MachineConfig.DEFAULT_BALLOON_STALL_NANOS, ReclamationSettings.MANUAL,
        new Quotas(64, 1L << 30, 2048), sharing));
  }
}
