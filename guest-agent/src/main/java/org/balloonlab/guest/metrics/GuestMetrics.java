package org.balloonlab.guest.metrics;

import static io.prometheus.metrics.model.snapshots.Unit.BYTES;
import static io.prometheus.metrics.model.snapshots.Unit.SECONDS;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.function.Supplier;
import org.balloonlab.balloon.driver.DriverStats;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.transport.metrics.MetricFamilies;
import org.balloonlab.units.PageSize;

/**
 * A guest agent's own metrics (docs/metrics.md, "Guest agents"): what its kernel counts that the hypervisor cannot
 * see (true faults, its swap, its free memory) and what its balloon driver did, each series labelled with the VM's
 * name. Read at scrape time from the vCPU's latest status and the driver's statistics snapshot; nothing is counted
 * for the metrics.
 */
public final class GuestMetrics implements MultiCollector {
  private static final double PAGE = PageSize.BYTES;

  private final String vm;
  private final Supplier<GuestStatus> status;
  private final Supplier<DriverStats> driver;

  /**
   * @param vm the VM's name, the {@code vm} label
   * @param status the guest's latest status, or {@code null} before its first
   * @param driver the balloon driver's statistics now, or {@code null} without a driver
   */
  public GuestMetrics(String vm, Supplier<GuestStatus> status, Supplier<DriverStats> driver) {
    this.vm = vm;
    this.status = status;
    this.driver = driver;
  }

  @Override
  public MetricSnapshots collect() {
    MetricFamilies f = new MetricFamilies();
    GuestStatus s = status.get();
    if (s != null) {
      f.gauge("balloonlab_guest_simulated_seconds", "The VM's simulated time", SECONDS, s.simulatedNs() / 1e9,
          "vm", vm);
      f.counter("balloonlab_guest_accesses", "Memory accesses the guest's processes made", null, s.accesses(),
          "vm", vm);
      f.counter("balloonlab_guest_true_faults", "Page faults the guest's kernel took", null, s.trueFaults(),
          "vm", vm);
      f.counter("balloonlab_guest_major_faults", "Faults that read a page from the guest's swap", null,
          s.majorFaults(), "vm", vm);
      f.counter("balloonlab_guest_minor_faults", "Faults served without I/O", null, s.minorFaults(), "vm", vm);
      f.counter("balloonlab_guest_page_outs", "Pages the guest's kernel swapped out", null, s.pageOuts(), "vm", vm);
      f.counter("balloonlab_guest_page_ins", "Pages the guest's kernel swapped in", null, s.pageIns(), "vm", vm);
      f.counter("balloonlab_guest_context_switches", "Context switches between the guest's processes", null,
          s.contextSwitches(), "vm", vm);
      f.counter("balloonlab_guest_integrity_violations", "Pages whose content was not what was written", null,
          s.integrityViolations(), "vm", vm);
      f.counter("balloonlab_guest_isolation_violations", "Pages that held another VM's content", null,
          s.isolationViolations(), "vm", vm);
      f.gauge("balloonlab_guest_free_bytes", "Free guest memory", BYTES, s.freePages() * PAGE, "vm", vm);
      f.gauge("balloonlab_guest_memory_bytes", "Guest memory", BYTES, s.totalPages() * PAGE, "vm", vm);
      f.gauge("balloonlab_guest_swap_used_bytes", "The guest's swap in use", BYTES, s.swapUsedPages() * PAGE,
          "vm", vm);
    }
    DriverStats d = driver == null ? null : driver.get();
    if (d != null) {
      f.gauge("balloonlab_guest_balloon_target_bytes", "The balloon target the driver works toward", BYTES,
          d.targetPages() * PAGE, "vm", vm);
      f.gauge("balloonlab_guest_balloon_bytes", "Memory the driver holds in the balloon", BYTES,
          d.sizePages() * PAGE, "vm", vm);
      f.gauge("balloonlab_guest_balloon_connected", "1 while the driver has a session with the hypervisor", null,
          d.connected() ? 1 : 0, "vm", vm);
      f.counter("balloonlab_guest_balloon_inflations", "Inflation rounds", null, d.inflations(), "vm", vm);
      f.counter("balloonlab_guest_balloon_deflations", "Deflation rounds", null, d.deflations(), "vm", vm);
      f.counter("balloonlab_guest_balloon_locked_pages", "Pages the driver locked into the balloon", null,
          d.pagesLocked(), "vm", vm);
      f.counter("balloonlab_guest_balloon_unlocked_pages", "Pages the driver took back out", null,
          d.pagesUnlocked(), "vm", vm);
      f.counter("balloonlab_guest_balloon_refused_pages", "Pages the hypervisor refused", null, d.pagesRefused(),
          "vm", vm);
      f.counter("balloonlab_guest_balloon_resets", "Balloon resets", null, d.resets(), "vm", vm);
      f.counter("balloonlab_guest_balloon_oom_deflations", "Deflations the guest's memory pressure forced", null,
          d.oomDeflations(), "vm", vm);
      f.counter("balloonlab_guest_balloon_host_errors", "Calls to the hypervisor that failed", null,
          d.hostErrors(), "vm", vm);
      f.counter("balloonlab_guest_balloon_stats_reports", "Statistics reports sent to the hypervisor", null,
          d.statsReports(), "vm", vm);
    }
    return f.snapshots();
  }
}
