package org.balloonlab.hypervisor.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.balloonlab.swap.SwapDevice;

/**
 * Builds the {@link Machine}'s snapshots from its parts: the machine-wide view and one VM's. Called under the
 * machine's lock, like every part.
 */
final class MachineViews {
  private final MachineConfig config;
  private final LongSupplier clock;
  private final MachineMemory memory;
  private final SwapDevice swap;
  private final MachineCounters counters;
  private final FreeMemoryTracker freeMemory;
  private final VmLifecycle lifecycle;
  private final Reclaimer reclaimer;
  private final PageSharing sharing;

  MachineViews(MachineConfig config, LongSupplier clock, MachineMemory memory, SwapDevice swap,
               MachineCounters counters, FreeMemoryTracker freeMemory, VmLifecycle lifecycle, Reclaimer reclaimer,
               PageSharing sharing) {
    this.config = config;
    this.clock = clock;
    this.memory = memory;
    this.swap = swap;
    this.counters = counters;
    this.freeMemory = freeMemory;
    this.lifecycle = lifecycle;
    this.reclaimer = reclaimer;
    this.sharing = sharing;
  }

  /** The machine and its VMs in one consistent snapshot. */
  MachineSnapshot machine() {
    List<VmSnapshot> list = new ArrayList<>(lifecycle.vms().size());
    long mapped = 0;
    for (Vm vm : lifecycle.vms()) {
      list.add(vm(vm));
      mapped += vm.mappedPages;
    }
    return new MachineSnapshot(memory.frames(), memory.freeFrames(), mapped, swap.slots(), swap.usedSlots(),
        lifecycle.configuredPages(), counters.hostPageOuts, counters.hostPageIns, counters.doublePaging,
        counters.vmsReleased, freeMemory.state().label(), reclaimer.policyName(), counters.freeStateChanges,
        freeMemory.thresholds().targetFreeFrames(memory.frames()), reclaimer.tau(),
        counters.policyPageOuts, lifecycle.reservedPages(), List.copyOf(list), lifecycle.swapReservedPages(),
        config.quotas(), sharing.snapshot());
  }

  /** One VM's snapshot. */
  VmSnapshot vm(Vm vm) {
    return vm.snapshot(clock.getAsLong(), config.balloonStallNanos(), reclaimer.tau(), sharing.snapshot(vm));
  }
}
