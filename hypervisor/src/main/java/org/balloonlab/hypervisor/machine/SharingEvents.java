package org.balloonlab.hypervisor.machine;

import java.util.Collection;
import java.util.Locale;
import org.balloonlab.hypervisor.event.EventKind;
import org.balloonlab.hypervisor.event.EventLog;

/**
 * What page sharing tells the operators on the machine's event log (docs/page-sharing.md, "Events"), at a rate
 * that does not grow with the pages a lab shares or the copy-on-write breaks it makes (a lab makes millions):
 * <ul>
 *   <li>{@link EventKind#SHARING_TABLE_FULL} once when the sharing table reaches its cap (new entries then take
 *       hints' slots), and {@link EventKind#SHARING_TABLE_RECOVERED} once when it is back under seven eighths of
 *       the cap, and not before a simulated second after it filled: the two together cannot flap;
 *   <li>{@link EventKind#SHARING_PROGRESS} per VM, when its shared pages or its copy-on-write breaks moved by
 *       {@link #progressStep} since its last one, at most once per simulated second;
 *   <li>{@link EventKind#SHARED_FRAMES_RELEASED} once per power-off of a VM that had pages on shared frames.
 * </ul>
 * Time is the scanner's: the simulated time its ticks brought (on the lab clock, lab time), never the wall clock,
 * so a seeded lab publishes the same events at the same lab times. Checks run once per tick, so they cost a few
 * comparisons per VM per tick, nothing per page.
 *
 * <p>Not thread-safe: every method assumes the caller holds the machine's lock.
 */
final class SharingEvents {
  /** The least simulated time between two progress events of one VM, and the shortest episode at the cap. */
  static final long MIN_INTERVAL_NS = 1_000_000_000L;
  /** A progress event needs at least this many pages of change, however small the VM. */
  static final long MIN_PROGRESS_PAGES = 16;

  private final EventLog events;
  private boolean tableFull;
  private long fullSinceNs;
  private long evictedAtFull;
  private long refusedAtFull;

  SharingEvents(EventLog events) {
    this.events = events;
  }

  /** The change of shared pages or breaks that is worth a progress event: 1 % of the VM's pages, at least 16. */
  static long progressStep(Vm vm) {
    return Math.max(MIN_PROGRESS_PAGES, vm.memoryPages() / 100);
  }

  /** The entries under which a table at its cap counts as having room again: seven eighths of the cap. */
  static int roomMark(SharingTable table) {
    int cap = table.maxEntries();
    return cap - Math.max(1, cap / 8);
  }

  /**
   * After a tick of the scanner, at scanner time {@code nowNs}: the table's episode at its cap, and every VM's
   * progress.
   *
   * @param evicted hints evicted since start
   * @param refused new entries refused since start (the table at its cap and holding no hint to drop)
   */
  void afterTick(long nowNs, Collection<Vm> vms, PageSharing sharing, long evicted, long refused) {
    SharingTable table = sharing.table();
    if (!tableFull && table.full()) {
      tableFull = true;
      fullSinceNs = nowNs;
      evictedAtFull = evicted;
      refusedAtFull = refused;
      events.publish(EventKind.SHARING_TABLE_FULL, 0, "", String.format(Locale.ROOT,
          "the sharing table is at its cap: %d of %d slots taken (%d shared frames, %d hints); a new entry now "
              + "takes a hint's slot", table.size(), table.capacity(),
          table.sharedEntries(), table.hintEntries()));
    } else if (tableFull && table.size() <= roomMark(table) && nowNs - fullSinceNs >= MIN_INTERVAL_NS) {
      tableFull = false;
      events.publish(EventKind.SHARING_TABLE_RECOVERED, 0, "", String.format(Locale.ROOT,
          "the sharing table is under its cap again: %d of %d slots taken (%d shared frames, %d hints); %d hints "
              + "evicted and %d new entries refused in %.1f simulated s at the cap", table.size(), table.capacity(),
          table.sharedEntries(), table.hintEntries(), evicted - evictedAtFull, refused - refusedAtFull,
          (nowNs - fullSinceNs) / 1e9));
    }
    for (Vm vm : vms) {
      progress(nowNs, vm, sharing);
    }
  }

  private void progress(long nowNs, Vm vm, PageSharing sharing) {
    VmSharing.Live s = vm.sharing;
    if (!vm.poweredOn || s.progressAtNs != Long.MIN_VALUE && nowNs - s.progressAtNs < MIN_INTERVAL_NS) {
      return;
    }
    long shared = s.sharedPages - s.progressSharedPages;
    long breaks = s.cowBreaks - s.progressCowBreaks;
    long step = progressStep(vm);
    if (Math.abs(shared) < step && breaks < step) {
      return;
    }
    s.progressAtNs = nowNs;
    s.progressSharedPages = s.sharedPages;
    s.progressCowBreaks = s.cowBreaks;
    VmSharing now = sharing.snapshot(vm);
    events.publish(EventKind.SHARING_PROGRESS, vm.id(), vm.name(), String.format(Locale.ROOT,
        "%d pages on shared frames (%+d), %d saved, %d hints, %d copy-on-write breaks (%+d), %d pages scanned, "
            + "%.3f ms of scanner time paid", now.sharedPages(), shared, now.savedPages(), now.hints(),
        now.cowBreaks(), breaks, now.scannedPages(), now.shareScanNs() / 1e6));
  }

  /**
   * A VM that went off (powered off, or released when its guest went away) dropped {@code references} references
   * to shared frames, and freed {@code freed} frames with their last reference; says so with the machine's sharing
   * afterwards.
   */
  void released(Vm vm, long references, long freed, SharingSnapshot machine) {
    if (references == 0) {
      return;
    }
    events.publish(EventKind.SHARED_FRAMES_RELEASED, vm.id(), vm.name(), String.format(Locale.ROOT,
        "going off, it dropped %d references to shared frames and freed %d frames with their last reference; the "
            + "machine now shares %d frames for %d pages, saving %d frames", references, freed,
        machine.sharedFrames(), machine.sharedReferences(), machine.savedFrames()));
  }
}
