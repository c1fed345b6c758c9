package org.balloonlab.hypervisor.metrics;

import static io.prometheus.metrics.model.snapshots.Unit.BYTES;
import static io.prometheus.metrics.model.snapshots.Unit.RATIO;
import static io.prometheus.metrics.model.snapshots.Unit.SECONDS;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.hypervisor.machine.BalloonSnapshot;
import org.balloonlab.hypervisor.machine.MachineSnapshot;
import org.balloonlab.hypervisor.machine.ReclamationSnapshot;
import org.balloonlab.hypervisor.machine.SharingSnapshot;
import org.balloonlab.hypervisor.machine.VmCounters;
import org.balloonlab.hypervisor.machine.VmSharing;
import org.balloonlab.hypervisor.machine.VmSnapshot;
import org.balloonlab.hypervisor.mmu.MmuCounters;
import org.balloonlab.hypervisor.policy.FreeMemoryState;
import org.balloonlab.transport.metrics.MetricFamilies;
import org.balloonlab.units.PageSize;

/**
 * The hypervisor's metrics, read from one {@link MachineSnapshot} per scrape: the machine's frames, free memory
 * and state, and per VM (label {@code vm}) its memory, balloon, allocation, faults by kind, exits by reason, TLB,
 * shares per page, active fraction and what its guest reported. Nothing is counted for the metrics: the data path
 * keeps the counters it always kept, and a scrape costs one snapshot under the machine's lock.
 *
 * <p>Every metric is listed in docs/metrics.md; sizes are bytes (pages times {@link PageSize#BYTES}), times are
 * simulated seconds.
 */
public final class HypervisorMetrics implements MultiCollector {
  private static final double PAGE = PageSize.BYTES;
  private static final double NS = 1e9;

  private final Supplier<MachineSnapshot> machine;
  private final LongSupplier labTimeNs;

  /**
   * @param machine takes a consistent snapshot of the machine ({@code Machine::snapshot})
   * @param labTimeNs the lab time in simulated nanoseconds (the machine's clock)
   */
  public HypervisorMetrics(Supplier<MachineSnapshot> machine, LongSupplier labTimeNs) {
    this.machine = machine;
    this.labTimeNs = labTimeNs;
  }

  @Override
  public MetricSnapshots collect() {
    MachineSnapshot m = machine.get();
    MetricFamilies f = new MetricFamilies();
    machine(f, m);
    for (VmSnapshot vm : m.vms()) {
      vm(f, vm);
    }
    return f.snapshots();
  }

  private void machine(MetricFamilies f, MachineSnapshot m) {
    f.gauge("balloonlab_lab_time_seconds", "Simulated time since the lab started (lab clock)", SECONDS,
        labTimeNs.getAsLong() / NS);
    f.gauge("balloonlab_machine_memory_bytes", "Machine memory", BYTES, m.machineFrames() * PAGE);
    f.gauge("balloonlab_machine_free_bytes", "Free machine memory", BYTES, m.freeFrames() * PAGE);
    f.gauge("balloonlab_machine_mapped_bytes",
        "The VMs' mapped pages (a frame shared by content counts once per page mapping it)", BYTES,
        m.mappedFrames() * PAGE);
    f.gauge("balloonlab_machine_target_free_bytes", "Free memory the policy aims for when it reclaims", BYTES,
        m.targetFreeFrames() * PAGE);
    f.gauge("balloonlab_machine_configured_bytes", "Sum of the powered-on VMs' configured sizes", BYTES,
        m.configuredPages() * PAGE);
    f.gauge("balloonlab_machine_reserved_bytes", "Sum of the powered-on VMs' reserved (min) memory", BYTES,
        m.reservedPages() * PAGE);
    for (FreeMemoryState s : FreeMemoryState.values()) {
      f.gauge("balloonlab_machine_free_state", "1 for the free-memory state the machine is in, 0 for the others",
          null, s.label().equals(m.freeState()) ? 1 : 0, "state", s.label());
    }
    f.gauge("balloonlab_machine_free_state_level", "The free-memory state as a number: 0 high, 1 soft, 2 hard, 3 low",
        null, FreeMemoryState.valueOf(m.freeState().toUpperCase(java.util.Locale.ROOT)).ordinal());
    f.gauge("balloonlab_machine_idle_memory_tax_ratio", "The machine-wide idle memory tax rate tau", RATIO, m.tau());
    f.gauge("balloonlab_machine_vms", "Powered-on VMs", null, m.vms().size());
    f.gauge("balloonlab_host_swap_bytes", "Host swap size", BYTES, m.hostSwapSlots() * PAGE);
    f.gauge("balloonlab_host_swap_used_bytes", "Host swap in use", BYTES, m.hostSwapUsed() * PAGE);
    f.gauge("balloonlab_host_swap_reserved_bytes", "Host swap reserved for the VMs (memory - min each)", BYTES,
        m.hostSwapReservedPages() * PAGE);
    f.counter("balloonlab_machine_host_page_outs", "Pages the hypervisor paged out to host swap", null,
        m.hostPageOuts());
    f.counter("balloonlab_machine_host_page_ins", "Pages the hypervisor paged in from host swap", null,
        m.hostPageIns());
    f.counter("balloonlab_machine_double_paging", "Guest page-outs of pages the hypervisor had swapped", null,
        m.doublePaging());
    f.counter("balloonlab_machine_policy_page_outs", "Pages paged out to bring VMs down to their targets", null,
        m.policyPageOuts());
    f.counter("balloonlab_machine_free_state_changes", "Changes of the free-memory state", null,
        m.freeStateChanges());
    f.counter("balloonlab_machine_vms_released", "VMs released because their guest went away", null,
        m.vmsReleased());
    SharingSnapshot sh = m.sharing();
    if (sh != null && sh.enabled()) {
      f.gauge("balloonlab_sharing_shared_frames_bytes", "Machine memory backing shared pages (the zero frame included)",
          BYTES, sh.sharedFrames() * PAGE);
      f.gauge("balloonlab_sharing_saved_bytes", "Machine memory page sharing saves (references minus frames)", BYTES,
          sh.savedFrames() * PAGE);
      f.gauge("balloonlab_sharing_hints", "Hints in the sharing table", null, sh.hints());
      f.gauge("balloonlab_sharing_table_bytes", "Heap held by the sharing table", BYTES, sh.tableBytes());
      f.counter("balloonlab_sharing_cow_breaks", "Writes to a shared page that gave the writer a private copy", null,
          sh.cowBreaks());
      f.counter("balloonlab_sharing_scanned_pages", "Pages the sharing scanner looked at", null, sh.scannedPages());
      f.counter("balloonlab_sharing_shared_before_page_out", "Victim pages shared instead of paged out", null,
          sh.sharedBeforePageOut());
      f.counter("balloonlab_sharing_hints_evicted", "Hints whose slot a new entry took, the table at its cap", null,
          sh.hintsEvicted());
      f.counter("balloonlab_sharing_scan_seconds", "Simulated time the VMs paid for the sharing scanner's work",
          SECONDS, sh.shareScanNs() / NS);
    }
  }

  private static void vm(MetricFamilies f, VmSnapshot vm) {
    String n = vm.name();
    f.gauge("balloonlab_vm_memory_bytes", "The VM's configured memory size", BYTES, vm.memoryPages() * PAGE, "vm", n);
    f.gauge("balloonlab_vm_mapped_bytes", "The VM's memory backed by machine frames", BYTES,
        vm.mappedPages() * PAGE, "vm", n);
    f.gauge("balloonlab_vm_host_swapped_bytes", "The VM's memory the hypervisor holds in host swap", BYTES,
        vm.hostSwappedPages() * PAGE, "vm", n);
    BalloonSnapshot b = vm.balloon();
    f.gauge("balloonlab_vm_balloon_bytes", "Memory the VM's balloon holds (ballooned)", BYTES, b.sizePages() * PAGE,
        "vm", n);
    f.gauge("balloonlab_vm_balloon_target_bytes", "The VM's balloon target", BYTES, b.targetPages() * PAGE, "vm", n);
    f.gauge("balloonlab_vm_balloon_driver_connected", "1 while a balloon driver session is open", null,
        b.driverConnected() ? 1 : 0, "vm", n);
    f.counter("balloonlab_vm_balloon_resets", "Resets of the VM's balloon", null, b.resets(), "vm", n);
    ReclamationSnapshot r = vm.reclamation();
    f.gauge("balloonlab_vm_allocation_bytes", "Machine memory the policy allots the VM", BYTES,
        r.allocationTargetPages() * PAGE, "vm", n);
    f.gauge("balloonlab_vm_min_bytes", "Memory reserved for the VM (min)", BYTES, r.minPages() * PAGE, "vm", n);
    f.gauge("balloonlab_vm_shares", "The VM's shares of machine memory", null, r.shares(), "vm", n);
    f.gauge("balloonlab_vm_shares_per_page", "Shares per page with the idle memory tax (rho) at the last decision",
        null, r.sharesPerPage(), "vm", n);
    f.gauge("balloonlab_vm_active_ratio", "Estimated fraction of the VM's memory in active use", RATIO,
        r.activeFraction(), "vm", n);
    f.gauge("balloonlab_vm_idle_memory_tax_ratio", "The idle memory tax rate that applies to the VM", RATIO, r.tau(),
        "vm", n);
    f.gauge("balloonlab_vm_target_pinned", "1 while an operator pins the VM's balloon target", null,
        r.targetPinned() ? 1 : 0, "vm", n);
    f.counter("balloonlab_vm_policy_page_outs", "Pages paged out to bring the VM down to its target", null,
        r.policyPageOuts(), "vm", n);
    VmCounters c = vm.counters();
    f.counter("balloonlab_vm_accesses", "Memory accesses the VM made", null, c.accesses(), "vm", n);
    f.counter("balloonlab_vm_faults", "Faults the hypervisor handled, by kind", null, c.hiddenFaults(), "vm", n,
        "kind", "hidden");
    f.counter("balloonlab_vm_faults", "", null, c.demandZeroFaults(), "vm", n, "kind", "demand_zero");
    f.counter("balloonlab_vm_faults", "", null, c.hostSwapInFaults(), "vm", n, "kind", "host_swap_in");
    f.counter("balloonlab_vm_faults", "", null, c.balloonFaults(), "vm", n, "kind", "balloon");
    f.counter("balloonlab_vm_host_page_outs", "The VM's pages paged out to host swap", null, c.hostPageOuts(),
        "vm", n);
    f.counter("balloonlab_vm_host_page_ins", "The VM's pages paged in from host swap", null, c.hostPageIns(),
        "vm", n);
    f.counter("balloonlab_vm_double_paging", "Guest page-outs of pages the hypervisor had swapped", null,
        c.doublePaging(), "vm", n);
    f.counter("balloonlab_vm_hypervisor_seconds", "Simulated time the hypervisor charged the VM", SECONDS,
        c.hypervisorNs() / NS, "vm", n);
    MmuCounters t = vm.mmu().counters();
    f.counter("balloonlab_vm_tlb_misses", "TLB misses", null, t.tlbMisses(), "vm", n);
    f.counter("balloonlab_vm_tlb_hits", "TLB hits", null, t.tlbHits(), "vm", n);
    f.counter("balloonlab_vm_exits", "VM exits, by reason", null, t.exitsPageTableWrite(), "vm", n,
        "reason", "page_table_write");
    f.counter("balloonlab_vm_exits", "", null, t.exitsContextSwitch(), "vm", n, "reason", "context_switch");
    f.counter("balloonlab_vm_exits", "", null, t.exitsGuestPageFault(), "vm", n, "reason", "guest_page_fault");
    f.counter("balloonlab_vm_exits", "", null, t.exitsShadowFill(), "vm", n, "reason", "shadow_fill");
    f.counter("balloonlab_vm_exits", "", null, t.exitsP2mFault(), "vm", n, "reason", "p2m_fault");
    VmSharing vs = vm.sharing();
    if (vs != null) {
      f.gauge("balloonlab_vm_shared_bytes", "The VM's memory mapped to shared frames (copy-on-write)", BYTES,
          vs.sharedPages() * PAGE, "vm", n);
      f.gauge("balloonlab_vm_sharing_saved_bytes", "Machine memory page sharing saves the VM", BYTES,
          vs.savedPages() * PAGE, "vm", n);
      f.gauge("balloonlab_vm_sharing_hints", "The VM's pages recorded as hints", null, vs.hints(), "vm", n);
      f.counter("balloonlab_vm_cow_breaks", "The VM's writes to a shared page that gave it a private copy", null,
          vs.cowBreaks(), "vm", n);
      f.counter("balloonlab_vm_sharing_scan_seconds", "Simulated time the VM paid for the sharing scanner's work",
          SECONDS, vs.shareScanNs() / NS, "vm", n);
    }
    GuestStatus g = vm.guest();
    if (g != null) {
      f.gauge("balloonlab_vm_simulated_seconds", "The VM's own simulated time, as its guest last reported", SECONDS,
          g.simulatedNs() / NS, "vm", n);
      f.counter("balloonlab_vm_guest_true_faults", "Page faults the guest's own kernel took", null, g.trueFaults(),
          "vm", n);
      f.counter("balloonlab_vm_guest_page_outs", "Pages the guest's kernel swapped out", null, g.pageOuts(),
          "vm", n);
      f.counter("balloonlab_vm_guest_page_ins", "Pages the guest's kernel swapped in", null, g.pageIns(), "vm", n);
      f.gauge("balloonlab_vm_guest_swap_used_bytes", "The guest's own swap in use", BYTES, g.swapUsedPages() * PAGE,
          "vm", n);
    }
    if (vm.guestStats() != null) {
      MemoryStats s = vm.guestStats().stats();
      f.gauge("balloonlab_vm_guest_free_bytes", "Free memory the balloon driver last reported", BYTES,
          s.freePages() * PAGE, "vm", n);
      f.gauge("balloonlab_vm_guest_available_bytes", "Available memory the balloon driver last reported", BYTES,
          s.availablePages() * PAGE, "vm", n);
      f.gauge("balloonlab_vm_guest_total_bytes", "Total memory the balloon driver last reported", BYTES,
          s.totalPages() * PAGE, "vm", n);
      f.counter("balloonlab_vm_guest_major_faults", "Major faults the balloon driver last reported", null,
          s.majorFaults(), "vm", n);
      f.counter("balloonlab_vm_guest_minor_faults", "Minor faults the balloon driver last reported", null,
          s.minorFaults(), "vm", n);
      f.counter("balloonlab_vm_guest_swap_in_bytes", "Memory swapped in, as the balloon driver last reported", BYTES,
          s.swapIn() * PAGE, "vm", n);
      f.counter("balloonlab_vm_guest_swap_out_bytes", "Memory swapped out, as the balloon driver last reported",
          BYTES, s.swapOut() * PAGE, "vm", n);
      f.counter("balloonlab_vm_guest_stats_reports", "Statistics reports the balloon driver made", null,
          vm.guestStats().reports(), "vm", n);
    }
  }
}
