package org.balloonlab.lab;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.balloonlab.domain.Pace;
import org.balloonlab.proto.BalloonStats;
import org.balloonlab.proto.GuestStatsState;
import org.balloonlab.domain.VmName;
import org.balloonlab.proto.LabClockState;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.MemorySize;

/** Formats the machine's state as the lines people read: one per VM and one for the machine. */
final class VmTable {
  private VmTable() {}

  static String header() {
    return String.format(Locale.ROOT, "%-8s %-10s %9s %9s %9s %9s %9s %9s %9s %9s %7s %10s %5s",
        "time", "vm", "config", "mapped", "balloon", "target", "hswapped", "hidden", "hpageout", "guestflt", "dblpg",
        "sim", "viol");
  }

  static String vmLine(String time, VmState vm) {
    long violations = vm.getGuest().getIntegrityViolations() + vm.getGuest().getIsolationViolations();
    String target = MemorySize.humanPages(vm.getBalloon().getTargetPages())
        + (vm.getBalloon().getUncooperative() ? "!" : "");
    return String.format(Locale.ROOT, "%-8s %-10s %9s %9s %9s %9s %9s %9d %9d %9d %7d %9.3fs %5d",
        time, vm.getName(),
        MemorySize.humanPages(vm.getMemoryPages()),
        MemorySize.humanPages(vm.getMappedPages()),
        MemorySize.humanPages(vm.getBalloon().getSizePages()),
        target,
        MemorySize.humanPages(vm.getHostSwappedPages()),
        vm.getCounters().getHiddenFaults(),
        vm.getCounters().getHostPageOuts(),
        vm.getGuest().getTrueFaults(),
        vm.getCounters().getDoublePaging(),
        vm.getGuest().getSimulatedNs() / 1e9,
        violations);
  }

  /** The machine's free-memory state (high, soft, hard, low), or {@code -} from a hypervisor that reports none. */
  static String freeState(MachineState m) {
    return m.getFreeState().isEmpty() ? "-" : m.getFreeState();
  }

  static String machineLine(String time, MachineState m) {
    double overcommit = (double) m.getConfiguredPages() / Math.max(1, m.getMachineFrames());
    return String.format(Locale.ROOT,
        "%-8s machine: free %s of %s (state %s), %d VMs configured %s (%.2fx), host swap %s used, "
            + "page-outs %d, page-ins %d, double paging %d; policy %s",
        time, MemorySize.humanPages(m.getFreeFrames()), MemorySize.humanPages(m.getMachineFrames()), freeState(m),
        m.getPoweredOnVms(), MemorySize.humanPages(m.getConfiguredPages()), overcommit,
        MemorySize.humanPages(m.getHostSwapUsed()), m.getHostPageOuts(), m.getHostPageIns(),
        m.getDoublePaging(), m.getPolicy().isEmpty() ? "-" : m.getPolicy());
  }

  /**
   * The machine's quotas and what they hold now (docs/design.md, "Quotas"): VMs powered on of the most allowed,
   * configured memory of its limit, host swap reserved for the VMs' {@code memory - min} of the swap's size, and
   * the translation tables one VM may make the hypervisor hold.
   */
  static String limitsLine(MachineState m) {
    return String.format(Locale.ROOT,
        "limits: %d of %d VMs, configured %s of %s, host swap reserved %s of %s, translation tables %s a VM",
        m.getPoweredOnVms(), m.getMaxVms(), MemorySize.humanPages(m.getConfiguredPages()),
        MemorySize.humanPages(m.getMaxConfiguredPages()), MemorySize.humanPages(m.getHostSwapReservedPages()),
        MemorySize.humanPages(m.getHostSwapSlots()), MemorySize.humanPages(m.getMaxTranslationTablePages()));
  }

  /**
   * What a VM's balloon driver last reported of its guest's memory (ReportStats, virtio-balloon's statistics), or
   * that it has reported nothing.
   */
  static String guestStatsLine(VmState vm) {
    if (!vm.hasGuestStats()) {
      return String.format(Locale.ROOT, "guest stats %-10s none reported (no balloon driver with statistics)",
          vm.getName());
    }
    GuestStatsState g = vm.getGuestStats();
    BalloonStats s = g.getStats();
    return String.format(Locale.ROOT, "guest stats %-10s free %s, available %s of %s; faults %d major, %d minor; "
            + "swapped in %s, out %s (report %d, at %s)", vm.getName(), MemorySize.humanPages(s.getFreePages()),
        MemorySize.humanPages(s.getAvailablePages()), MemorySize.humanPages(s.getTotalPages()), s.getMajorFaults(),
        s.getMinorFaults(), MemorySize.humanPages(s.getSwapIn()), MemorySize.humanPages(s.getSwapOut()),
        g.getReports(), labTime(g.getLabTimeNs()));
  }

  /** A lab time as the time column shows it: {@code 30s}, {@code 12.5s}, {@code 0.01s}. */
  /**
   * Page sharing, machine-wide and per VM, or {@code null} while it is off: shared frames and the pages mapped to
   * them, frames saved, hints, copy-on-write breaks, pages scanned and the sharing table's bytes.
   */
  static String sharingLines(ListVmsResponse state) {
    org.balloonlab.proto.MachineSharingState s = state.getMachine().getSharing();
    if (!s.getEnabled()) {
      return null;
    }
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
        "sharing: %d shared frames for %d pages (%d zero), saved %s, %d hints, %d copy-on-write breaks, %d pages "
            + "scanned (%s of scanner time paid), %d shared instead of paged, table %d bytes in %d slots (%d hints "
            + "evicted)",
        s.getSharedFrames(), s.getSharedReferences(), s.getZeroReferences(), MemorySize.humanPages(s.getSavedFrames()),
        s.getHints(), s.getCowBreaks(), s.getScannedPages(), labTime(s.getShareScanNs()), s.getSharedBeforePageOut(),
        s.getTableBytes(), s.getTableSlots(), s.getHintsEvicted()));
    for (VmState vm : inNaturalOrder(state)) {
      org.balloonlab.proto.VmSharingState v = vm.getSharing();
      b.append(String.format(Locale.ROOT, "%n  %s: %d shared pages, saves %s, %d hints, %d copy-on-write breaks, "
          + "%d scanned (%s paid)", vm.getName(), v.getSharedPages(), MemorySize.humanPages(v.getSavedPages()),
          v.getHints(), v.getCowBreaks(), v.getScannedPages(), labTime(v.getShareScanNs())));
    }
    return b.toString();
  }

  static String labTime(long ns) {
    return BigDecimal.valueOf(ns, 9).stripTrailingZeros().toPlainString() + "s";
  }

  /**
   * The lab clock: where it stands, how fast it runs against the wall clock, and whether the run so far depends on
   * simulated time alone.
   */
  static String clockLine(String time, LabClockState c) {
    if (!c.getLockstep()) {
      return String.format(Locale.ROOT, "%-8s clock: free running on wall time (lab-clock free): not reproducible",
          time);
    }
    String pace = new Pace(c.getPace()).toString();
    String verdict = c.getReproducible() ? "reproducible"
        : "not reproducible: " + String.join("; ", c.getNotReproducibleBecauseList());
    return String.format(Locale.ROOT, "%-8s clock: lab time %s, pace %s (%.2f simulated s per wall s), quantum %s, "
        + "%d VMs on it; %s", time, labTime(c.getLabTimeNs()), pace, c.getSimulatedPerWallSecond(),
        plain(c.getQuantumNs() / 1e6) + "ms", c.getParticipants(), verdict);
  }

  private static String plain(double v) {
    return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }

  /** The VMs in the natural order of their names (vm2 before vm10), as every table of the lab lists them. */
  static List<VmState> inNaturalOrder(ListVmsResponse state) {
    List<VmState> vms = new ArrayList<>(state.getVmsList());
    vms.sort(Comparator.comparing(VmState::getName, VmName.NATURAL_ORDER));
    return vms;
  }

  /** The VMs in natural order of their names (vm2 before vm10), the machine, and the clock if there is one. */
  static String render(String time, ListVmsResponse state) {
    StringBuilder b = new StringBuilder();
    for (VmState vm : inNaturalOrder(state)) {
      b.append(vmLine(time, vm)).append('\n');
    }
    b.append(machineLine(time, state.getMachine()));
    if (state.getMachine().hasClock()) {
      b.append('\n').append(clockLine(time, state.getMachine().getClock()));
    }
    return b.toString();
  }
}
