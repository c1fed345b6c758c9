package org.balloonlab.guest.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.balloon.driver.DriverStats;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.proto.MmuState;
import org.balloonlab.proto.VmCounters;
import org.balloonlab.proto.VmState;

/**
 * The summary line a guest agent prints when it ends ({@link GuestAgentCommand#SUMMARY} {@code key=value ...}):
 * written here, and read here for the tools and tests that start guests as processes and read what they
 * report, so the format has one home.
 */
public final class GuestSummary {
  private GuestSummary() {}

  /**
   * The line: the guest's own counts, then, when the hypervisor answered the power-off with the VM's last
   * state, its hidden faults and address translation counts.
   *
   * @param s the guest's last status, {@code null} if it never made one
   * @param last the VM's state at power-off, {@code null} when there was none
   * @param translation the VM's translation mode, {@code nested} or {@code shadow}
   */
  static String line(String name, GuestStatus s, VmState last, String translation) {
    return line(name, s, last, translation, null);
  }

  /**
   * The line, ending with the balloon driver's own counts when it has one: its size, the pages it locked, its
   * resets, the calls it sent again after no answer came and those whose outcome stayed unknown.
   *
   * @param balloon the driver's last stats, {@code null} without a driver
   */
  static String line(String name, GuestStatus s, VmState last, String translation, DriverStats balloon) {
    return line(name, s, last, translation, balloon, null);
  }

  /**
   * The line, with the guest OS's boot memory and page cache at the end when {@code os} is given: boot-structure
   * and image pages, the cache's pages, hits, misses, drops and write-backs, and the file operations and their
   * throughput per second of simulated time ({@code file_ops_per_sim_s}), which compares two runs.
   */
  static String line(String name, GuestStatus s, VmState last, String translation, DriverStats balloon,
                     GuestCounters os) {
    StringBuilder b = new StringBuilder(GuestAgentCommand.SUMMARY);
    if (s == null) {
      // The guest ended before its first report (its hypervisor was lost early): nothing counted to show.
      append(b, "name", name);
      return b.toString();
    }
    append(b, "name", name, "simulated_ns", s.simulatedNs(), "accesses", s.accesses(), "true_faults",
        s.trueFaults(), "major_faults", s.majorFaults(), "guest_page_outs", s.pageOuts(), "guest_page_ins",
        s.pageIns(), "integrity_violations", s.integrityViolations(), "isolation_violations",
        s.isolationViolations());
    if (last != null) {
      VmCounters c = last.getCounters();
      append(b, "hidden_faults", c.getHiddenFaults(), "host_page_outs", c.getHostPageOuts(), "host_page_ins",
          c.getHostPageIns(), "double_paging", c.getDoublePaging());
      MmuState m = last.getMmu();
      append(b, "translation", translation, "tlb_hits", m.getTlbHits(), "tlb_misses", m.getTlbMisses(),
          "walk_references", m.getWalkReferences(), "exits_pt_write", m.getExitsPageTableWrite(),
          "exits_context_switch", m.getExitsContextSwitch(), "exits_guest_fault", m.getExitsGuestPageFault(),
          "exits_shadow_fill", m.getExitsShadowFill(), "exits_p2m_fault", m.getExitsP2MFault(),
          "hidden_shadow_faults", m.getHiddenShadowFaults(), "reflected_faults", m.getReflectedFaults(),
          "shadow_bytes_peak", m.getShadowTablePeakBytes(), "tlb_flushes", m.getTlbFlushes(),
          "translation_ns", m.getTranslationNs(), "untracked_translations", m.getUntrackedTranslations());
    }
    if (balloon != null) {
      append(b, "balloon_pages", balloon.sizePages(), "balloon_pages_locked", balloon.pagesLocked(),
          "balloon_resets", balloon.resets(), "balloon_retries", balloon.retries(), "balloon_unknown_outcomes",
          balloon.unknownOutcomes(), "balloon_host_errors", balloon.hostErrors());
    }
    if (os != null) {
      long perSecond = s.simulatedNs() <= 0 ? 0 : (long) (os.fileOps() * 1e9 / s.simulatedNs());
      append(b, "boot_pages", os.bootPages(), "image_pages", os.imagePages(), "page_cache_pages", os.pageCachePages(),
          "cache_hits", os.cacheHits(), "cache_misses", os.cacheMisses(), "cache_drops", os.cacheDrops(),
          "cache_writebacks", os.cacheWritebacks(), "data_set_fills", os.dataSetFills(), "file_ops", os.fileOps(),
          "file_ops_per_sim_s", perSecond);
    }
    return b.toString();
  }

  /** Appends {@code key=value} pairs, one space between two. */
  private static void append(StringBuilder b, Object... keysAndValues) {
    for (int i = 0; i < keysAndValues.length; i += 2) {
      if (b.length() > GuestAgentCommand.SUMMARY.length()) {
        b.append(' ');
      }
      b.append(keysAndValues[i]).append('=').append(keysAndValues[i + 1]);
    }
  }

  /** Every numeric {@code key=value} pair of the line, in order; names and other text are left out. */
  public static Map<String, Long> counts(String summary) {
    Map<String, Long> values = new LinkedHashMap<>();
    for (String kv : summary.trim().split(" ")) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      try {
        values.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
      } catch (NumberFormatException e) {
        // A name, not a count.
      }
    }
    return values;
  }

  /**
   * One count of the line.
   *
   * @throws IllegalStateException if the line has no such count
   */
  public static long count(String summary, String key) {
    Long value = counts(summary).get(key);
    if (value == null) {
      throw new IllegalStateException("the guest summary has no " + key + ": " + summary);
    }
    return value;
  }
}
