package org.balloonlab.hypervisor.machine;

import java.util.random.RandomGenerator;
import org.balloonlab.domain.DriverMode;
import java.util.Arrays;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;
import org.balloonlab.hypervisor.event.EventKind;
import org.balloonlab.hypervisor.event.EventLog;
import org.balloonlab.swap.SwapDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hypervisor's end of the balloon protocol (vmw_balloon's, ARCHITECTURE.md section 5): driver sessions and
 * their capabilities, locking and unlocking PFNs, the reset when the hypervisor can no longer trust its view of a
 * balloon, balloon targets (the operator's and the policy's) and the operator's driver-mode requests.
 *
 * <p>A locked PFN's P2M entry becomes {@link P2m#BALLOONED} and its MFN (or host swap slot) is freed at once;
 * an unlocked one becomes untouched, so its next touch is a demand-zero fault. The per-VM state lives in the
 * VM's {@link VmBalloon}; this class holds only what every balloon shares: machine memory and host swap to give
 * frames and slots back to, the event log, the clock and the listener that rings the doorbells.
 *
 * <p>Not thread-safe: every method assumes the caller holds the machine's lock. The listener is called under
 * that lock, so it must only queue work.
 */
final class BalloonBackend {
  /** The machine's logger: the hypervisor's log reads as it did when the machine was one class. */
  private static final Logger log = LoggerFactory.getLogger(Machine.class);

  /** Which way a batch of PFNs moves: into the balloon or out of it. */
  enum Direction {
    LOCK,
    UNLOCK
  }

  private final MachineMemory memory;
  private final SwapDevice swap;
  private final EventLog events;
  private final LongSupplier clock;
  private final int batchPages;
  /**
   * Session ids come from a random source of their own, seeded apart from victim choice: a run's session ids
   * repeat with its seed (they show in a VM's state), and drawing them leaves victim choice as it was. They tell a
   * stale session from the current one; the VM's credential, not the session id, is what authenticates a driver.
   */
  private final RandomGenerator sessionIds;
  private IntConsumer listener = id -> { };

  private final PageSharing sharing;

  BalloonBackend(MachineMemory memory, SwapDevice swap, EventLog events, LongSupplier clock, int batchPages,
                 RandomGenerator sessionIds, PageSharing sharing) {
    this.sharing = sharing;
    this.memory = memory;
    this.swap = swap;
    this.events = events;
    this.clock = clock;
    this.batchPages = batchPages;
    this.sessionIds = sessionIds;
  }

  /** Told a VM id whenever that VM's balloon target, requested mode or reset changes, or the VM goes. */
  void onChange(IntConsumer listener) {
    this.listener = listener;
  }

  void ring(Vm vm) {
    listener.accept(vm.id());
  }

  /**
   * Opens a driver session, replacing any earlier one, and clears a pending reset. Pages locked under an earlier
   * session stay locked: the driver still holds them.
   */
  BalloonSession openSession(Vm vm, boolean batched, boolean doorbell, boolean stats) {
    vm.requirePoweredOn();
    VmBalloon b = vm.balloon;
    b.contact(clock.getAsLong());
    long id;
    do {
      id = sessionIds.nextLong() & Long.MAX_VALUE;
    } while (id == 0 || id == b.session);
    b.session = id;
    b.sessionBatch = batched ? batchPages : 1;
    b.sessionDoorbell = doorbell;
    b.sessionStats = stats;
    b.resetPending = false;
    b.lastRequestId = 0;
    log.info("{}: balloon driver session opened, target {} pages, balloon {} pages", vm, b.target, b.size);
    return new BalloonSession(id, b.sessionBatch, b.reply());
  }

  /** The driver closed {@code session}; if it is still the VM's, no driver is connected any more. */
  void hungUp(Vm vm, long session) {
    if (session != 0 && vm.balloon.session == session) {
      vm.balloon.session = 0;
      log.info("{}: balloon driver closed its session; balloon stays at {} pages", vm, vm.balloon.size);
    }
  }

  BalloonReply doorbell(Vm vm, long session) {
    requireSession(vm, session);
    requireCapability(vm.balloon.sessionDoorbell, "doorbell");
    return vm.balloon.reply();
  }

  BalloonReply target(Vm vm, long session) {
    requireSession(vm, session);
    vm.balloon.contact(clock.getAsLong());
    return vm.balloon.reply();
  }

  BalloonReply stats(Vm vm, long session) {
    requireSession(vm, session);
    requireCapability(vm.balloon.sessionStats, "stats");
    vm.balloon.contact(clock.getAsLong());
    return vm.balloon.reply();
  }

  /**
   * Locks or unlocks a batch of PFNs, one status per PFN. Out-of-range and repeated PFNs are marked first; while
   * a reset is pending every page answers RESET and nothing changes. A retry of the last request id applied is
   * answered as {@link #repeat} does; an id is remembered once applied.
   */
  BalloonReply move(Vm vm, long session, long requestId, int[] pfns, int count, BalloonPageStatus[] statuses,
                    Direction direction) {
    BalloonReply again = repeat(vm, session, requestId, pfns, count, statuses, direction);
    if (again != null) {
      return again;
    }
    VmBalloon b = vm.balloon;
    if (b.resetPending) {
      Arrays.fill(statuses, 0, count, BalloonPageStatus.RESET);
    } else {
      markInvalidAndDuplicates(vm, pfns, count, statuses);
      long now = clock.getAsLong();
      for (int i = 0; i < count; i++) {
        if (statuses[i] == null) {
          statuses[i] = direction == Direction.LOCK ? lock(vm, pfns[i], now) : unlock(vm, pfns[i], now);
        }
      }
    }
    b.contact(clock.getAsLong());
    BalloonReply reply = b.reply();
    if (requestId != 0) {
      remember(b, requestId, direction, pfns, count, statuses, reply);
    }
    return reply;
  }

  /**
   * A retry of the last Lock or Unlock applied under {@code requestId}: its answer again (statuses and target,
   * as they were), and nothing changed (the frames were counted once, when it was applied). {@code null} when the id is
   * 0 or newer than the last one applied: a new request. Checks the session and batch first, as {@link #move}.
   *
   * @throws MachineException FAILED_PRECONDITION for an id older than the last one applied; INVALID_ARGUMENT for
   *     a negative id, or the same id with other pages or the other direction
   */
  BalloonReply repeat(Vm vm, long session, long requestId, int[] pfns, int count, BalloonPageStatus[] statuses,
                      Direction direction) {
    requireSession(vm, session);
    VmBalloon b = vm.balloon;
    if (count > b.sessionBatch) {
      throw MachineException.invalid("a balloon batch of this session holds at most " + b.sessionBatch
          + " pages, got " + count);
    }
    if (requestId < 0) {
      throw MachineException.invalid("a balloon request id is at most 2^63 - 1");
    }
    if (requestId == 0 || requestId > b.lastRequestId) {
      return null;
    }
    if (requestId < b.lastRequestId) {
      throw new MachineException(MachineException.Reason.FAILED_PRECONDITION, "balloon request " + requestId
          + " of " + vm + " was overtaken by request " + b.lastRequestId + " and is not applied");
    }
    if (b.lastLock != (direction == Direction.LOCK) || b.lastCount != count
        || !Arrays.equals(b.lastPfns, 0, count, pfns, 0, count)) {
      throw MachineException.invalid("balloon request " + requestId + " of " + vm + " was applied to other pages"
          + " or in the other direction; a retry must repeat it exactly");
    }
    BalloonPageStatus[] all = BalloonPageStatus.values();
    for (int i = 0; i < count; i++) {
      statuses[i] = all[b.lastStatuses[i]];
    }
    log.info("{}: balloon {} request {} retried; answered as applied before, nothing changed", vm,
        direction == Direction.LOCK ? "lock" : "unlock", requestId);
    // Not counted as contact: a retry may come at any wall-clock moment, and what the views show stays a
    // function of the lab's order.
    return b.lastReply;
  }

  private static void remember(VmBalloon b, long requestId, Direction direction, int[] pfns, int count,
                               BalloonPageStatus[] statuses, BalloonReply reply) {
    b.lastReply = reply;
    if (b.lastPfns.length < count) {
      b.lastPfns = new int[count];
      b.lastStatuses = new byte[count];
    }
    System.arraycopy(pfns, 0, b.lastPfns, 0, count);
    for (int i = 0; i < count; i++) {
      b.lastStatuses[i] = (byte) statuses[i].ordinal();
    }
    b.lastRequestId = requestId;
    b.lastLock = direction == Direction.LOCK;
    b.lastCount = count;
  }

  /** Takes a PFN's frame (or host swap slot) back, unless the balloon already holds its target. */
  private BalloonPageStatus lock(Vm vm, int pfn, long now) {
    VmBalloon b = vm.balloon;
    int e = vm.p2m.get(pfn);
    if (P2m.isBallooned(e)) {
      return BalloonPageStatus.ALREADY_LOCKED;
    }
    if (b.size >= b.target) {
      b.refused++;
      return BalloonPageStatus.REFUSED;
    }
    if (P2m.isMapped(e)) {
      // A shared frame is freed only with its last reference.
      if (memory.owner(e) == MachineMemory.SHARED) {
        sharing.dropReference(vm, e);
      } else {
        memory.free(e);
      }
      vm.mappedPages--;
    } else if (P2m.isSwapped(e)) {
      swap.release(P2m.swapSlot(e));
      vm.hostSwappedPages--;
    }
    vm.p2m.setBallooned(pfn);
    vm.mmu.p2mChanged(pfn);
    b.size++;
    b.locked++;
    b.progressNanos = now;
    return BalloonPageStatus.OK;
  }

  /** Gives a PFN back to the guest untouched; only a deflation toward the target counts as progress. */
  private BalloonPageStatus unlock(Vm vm, int pfn, long now) {
    VmBalloon b = vm.balloon;
    if (!P2m.isBallooned(vm.p2m.get(pfn))) {
      return BalloonPageStatus.NOT_LOCKED;
    }
    vm.p2m.clear(pfn);
    vm.mmu.p2mChanged(pfn);
    if (b.size > b.target) {
      b.progressNanos = now;
    }
    b.size--;
    b.unlocked++;
    return BalloonPageStatus.OK;
  }

  /** Marks out-of-range PFNs INVALID and repeated ones DUPLICATE; leaves the rest {@code null}. */
  private static void markInvalidAndDuplicates(Vm vm, int[] pfns, int count, BalloonPageStatus[] statuses) {
    int pages = vm.memoryPages();
    long[] keyed = new long[count];
    for (int i = 0; i < count; i++) {
      statuses[i] = null;
      keyed[i] = ((long) pfns[i] << 32) | i;
    }
    Arrays.sort(keyed, 0, count);
    for (int k = 0; k < count; k++) {
      int index = (int) keyed[k];
      int pfn = (int) (keyed[k] >> 32);
      if (pfn < 0 || pfn >= pages) {
        statuses[index] = BalloonPageStatus.INVALID;
      } else if (k > 0 && (int) (keyed[k - 1] >> 32) == pfn) {
        statuses[index] = BalloonPageStatus.DUPLICATE;
      }
    }
  }

  /**
   * An operator's balloon target: pinned, so the reclamation policy leaves it alone, and the VM's allocation
   * follows it.
   */
  void setOperatorTarget(Vm vm, long targetPages) {
    vm.requirePoweredOn();
    long most = vm.memoryPages() - vm.minPages;
    if (targetPages < 0 || targetPages > most) {
      throw MachineException.invalid("a balloon target must be from 0 to " + most + " pages (the size of " + vm
          + (vm.minPages > 0 ? " minus its min of " + vm.minPages + " pages" : "") + "), got " + targetPages);
    }
    vm.targetPinned = true;
    vm.allocationTarget = vm.memoryPages() - targetPages;
    VmBalloon b = vm.balloon;
    if (targetPages != b.target) {
      b.target = targetPages;
      b.progressNanos = clock.getAsLong();
      log.info("{}: balloon target set to {} pages", vm, targetPages);
      events.publish(EventKind.BALLOON_TARGET_SET, vm.id(), vm.name(), "balloon target set to " + targetPages
          + " pages by the operator (balloon holds " + b.size + ")");
      ring(vm);
    }
  }

  /** The policy's target for a balloon; a new demand on a driver that had met its target restarts its stall clock. */
  void setPolicyTarget(Vm vm, long targetPages, long now) {
    VmBalloon b = vm.balloon;
    long target = Math.max(0, Math.min(vm.memoryPages() - vm.minPages, targetPages));
    if (target != b.target) {
      if (b.size == b.target) {
        b.progressNanos = now;
      }
      b.target = target;
      ring(vm);
    }
  }

  /** Passes an operator's driver-mode request on; the driver gets a fresh stall clock to act on it. */
  void setDriverMode(Vm vm, DriverMode mode) {
    vm.requirePoweredOn();
    vm.balloon.requestedMode = mode;
    vm.balloon.progressNanos = clock.getAsLong();
    log.info("{}: balloon driver asked to switch to {}", vm, mode);
    events.publish(EventKind.DRIVER_MODE_CHANGED, vm.id(), vm.name(), "balloon driver asked to switch to "
        + mode);
    ring(vm);
  }

  /**
   * Drops a VM's balloon (vmw_balloon's RESET): every ballooned PFN becomes untouched, and the driver is answered
   * RESET until it opens a new session.
   */
  void reset(Vm vm, String why) {
    P2m p2m = vm.p2m;
    for (int pfn = 0, n = p2m.pages(); pfn < n; pfn++) {
      if (P2m.isBallooned(p2m.get(pfn))) {
        p2m.clear(pfn);
        vm.mmu.p2mChanged(pfn);
      }
    }
    VmBalloon b = vm.balloon;
    log.info("{}: balloon of {} pages reset: {}", vm, b.size, why);
    events.publish(EventKind.BALLOON_RESET, vm.id(), vm.name(), "balloon of " + b.size + " pages reset: " + why);
    b.size = 0;
    b.resetPending = true;
    b.resets++;
    b.progressNanos = clock.getAsLong();
    ring(vm);
  }

  private static void requireSession(Vm vm, long session) {
    vm.requirePoweredOn();
    if (session == 0 || session != vm.balloon.session) {
      throw new MachineException(MachineException.Reason.FAILED_PRECONDITION, "balloon session " + session
          + " of " + vm + " is not current; start a new one");
    }
  }

  private static void requireCapability(boolean negotiated, String capability) {
    if (!negotiated) {
      throw new MachineException(MachineException.Reason.FAILED_PRECONDITION,
          "the " + capability + " capability was not negotiated for this session");
    }
  }
}
