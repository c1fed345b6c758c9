package org.balloonlab.hypervisor.machine;

import java.security.SecureRandom;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.hypervisor.policy.TargetDecision;
import org.balloonlab.hypervisor.event.EventKind;
import org.balloonlab.hypervisor.event.EventLog;
import org.balloonlab.hypervisor.mmu.Mmu;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.mmu.TranslationMode;
import org.balloonlab.hypervisor.policy.ReclamationPolicy;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.swap.SwapDevice;

/**
 * The simulated machine: machine memory, one P2M per powered-on VM, the host swap file, and the data path that
 * resolves a guest's accesses to guest-physical pages. It is the one entry point of the hypervisor's domain and
 * the one lock over it; each mechanism is a class of its own that it composes:
 *
 * <pre>
 *   Machine  (the lock, the public API, the snapshots)
 *     |-- BatchValidator     checks a batch before the lock is taken
 *     |-- DataPath           applies a batch: P2M lookups, hidden faults, the MMU's charges
 *     |     |-- HostPager        takes frames, pages random victims out, swaps in, restores reservations
 *     |     |-- BalloonBackend   resets a balloon whose page the guest touched
 *     |     '-- Reclaimer        holds a VM above its target in the low state
 *     |-- BalloonBackend     sessions, lock/unlock, reset, targets, driver modes (per VM: VmBalloon)
 *     |-- Reclaimer          the policy's allocations to balloon targets, paging to targets (via HostPager)
 *     |-- FreeMemoryTracker  the free-memory state: high, soft, hard, low
 *     |-- PageSharing        the sharing scanner, its table, copy-on-write (docs/page-sharing.md)
 *     |-- VmLifecycle        the powered-on VMs: admission, credentials, attach, detach, release
 *     |-- MachineViews       the snapshots built from the parts
 *     |-- MachineCounters    the machine-wide counters the parts bump
 *     '-- MachineInvariants  the frame table checked against the P2Ms, for tests
 * </pre>
 *
 * <p><b>Demand allocation.</b> A VM is powered on with a P2M and no frames. The first touch of a PFN is a hidden
 * demand-zero fault: the hypervisor takes a free frame, zeroes it and maps it.
 *
 * <p><b>Overcommit and hypervisor paging.</b> The VMs' configured sizes may add up to more than machine memory.
 * When no frame is free, the hypervisor makes one by paging guest memory out itself ({@link HostPager}): it takes
 * the VM furthest above its allocation and a random page of it (the hypervisor cannot tell which pages the guest
 * values, so it picks blindly, as ESX's swapper does), writes the content to its swap file and frees the frame.
 * The next touch of that PFN is a hidden swap-in fault. If the touch is the guest reading the page to write it to
 * its own swap, the page-in exists only to be paged out again by the guest: that is <em>double paging</em>,
 * counted apart.
 *
 * <p><b>Automatic reclamation.</b> {@link #rebalance} runs the reclamation policy once a period: it tracks the
 * free-memory state (high, soft, hard, low, with hysteresis), asks the {@link ReclamationPolicy} for each VM's
 * allocation, sets balloon targets from the allocations, and pages a VM down to its allocation itself when its
 * balloon cannot deliver or the machine is in the hard or low state. In the low state, a VM above its target is
 * held on its next batch until the hypervisor has paged it back under. Admission control refuses a power-on whose
 * reserved memory ({@code min}) the machine cannot add to the reservations it already has.
 *
 * <p><b>Simulated time.</b> Each hidden fault charges the faulting VM the cost model's hidden-fault time plus its
 * work (zeroing, swap I/O, including the page-out that freed the frame it needed). The machine's own times
 * (balloon progress, driver contact, detach times, the ages in snapshots) come from one injected clock.
 *
 * <p><b>Address translation.</b> Each VM has an {@link Mmu} (nested or shadow, chosen at power-on) that charges
 * TLB hits, walks and exits per access and page-table event of a batch. Every change of a P2M entry tells the
 * VM's MMU, which drops the TLB and shadow entries that may hold the old frame.
 *
 * <p><b>Concurrency.</b> One lock (this object) guards all state: every public method that reads or changes it is
 * {@code synchronized}, and the parts assume it is held. A batch of thousands of accesses is applied under one
 * acquisition, so the lock is taken a few hundred times a second per VM, not per access; validation happens
 * before the lock is taken. A refused batch changes nothing.
 */
public final class Machine implements AutoCloseable {
  /** P2M entries are ints and swap slots are encoded below -1, so a VM is capped at 2^28 pages (1 TiB). */
  public static final long MAX_VM_PAGES = 1L << 28;
  /** Shares are longs on the wire; capping them keeps shares-per-page arithmetic far from overflow. */
  public static final long MAX_SHARES = 1_000_000_000L;
  /** Mixed into the seed for balloon session ids, so they do not repeat the victim choices' sequence. */
  private static final long SESSION_ID_SEED = 0x5e55_10_1d_5eedL;

  private final MachineConfig config;
  private final LongSupplier clock;
  private final MachineMemory memory;
  private final SwapDevice swap;
  /** Seeds victim choice and activity sampling, in the order the two draw from it, so a run can be repeated. */
  private final SplittableRandom random;
  private final EventLog events = new EventLog();
  private final MachineCounters counters = new MachineCounters();
  private final FreeMemoryTracker freeMemory;
  private final BalloonBackend balloon;
  private final VmLifecycle lifecycle;
  private final HostPager pager;
  private final Reclaimer reclaimer;
  private final BatchValidator validator;
  private final DataPath dataPath;
  private final PageSharing sharing;
  private final MachineViews views;

  public Machine(MachineConfig config) {
    this(config, TlbConfig.DEFAULT);
  }

  /** A machine whose VMs' vCPUs each get a TLB shaped by {@code tlb}. */
  public Machine(MachineConfig config, TlbConfig tlb) {
    this(config, tlb, System::nanoTime);
  }

  /**
   * A machine that reads the time from {@code clock}: balloon progress and stalls, driver contact, detach times
   * and the ages in its snapshots all use it and nothing else, so a simulated clock can replace the monotonic one
   * in this one place.
   *
   * @param clock nanoseconds on a monotonic scale (only differences count)
   */
  public Machine(MachineConfig config, TlbConfig tlb, LongSupplier clock) {
    this(config, tlb, clock, new SwapDevice(config.hostSwapFile(), config.hostSwapSlots()));
  }

  /**
   * A machine paging to {@code hostSwap}, a device the caller opened (and reserved) with
   * {@link MachineConfig#hostSwapSlots()} slots; the machine owns it from now on and closes it.
   */
  public Machine(MachineConfig config, TlbConfig tlb, LongSupplier clock, SwapDevice hostSwap) {
    if (hostSwap.slots() != config.hostSwapSlots()) {
      throw new IllegalArgumentException("the host swap device holds " + hostSwap.slots() + " slots, the config "
          + config.hostSwapSlots());
    }
    this.config = config;
    this.clock = clock;
    this.memory = new MachineMemory(config.frames());
    this.swap = hostSwap;
    this.random = new SplittableRandom(config.seed());
    // Credentials: unpredictable, and drawn apart from the seeded random.
    SecureRandom secrets = new SecureRandom();
    this.freeMemory = new FreeMemoryTracker(memory, config.reclamation().thresholds(), events, counters);
    this.sharing = new PageSharing(config.sharing(), memory, config.costs(), config.seed(), events);
    this.balloon = new BalloonBackend(memory, swap, events, clock, config.balloonBatchPages(),
        new SplittableRandom(config.seed() ^ SESSION_ID_SEED), sharing);
    // The detach timeout is a wall-clock grace for a guest that went away, not part of the model: a lab clock held
    // still must not keep a dead guest's VM on for ever.
    this.lifecycle = new VmLifecycle(memory, swap, events, balloon, System::nanoTime, config.costs(), tlb,
        config.reclamation(), secrets, counters, config.quotas(), sharing);
    sharing.findVmsWith(lifecycle::find);
    this.pager = new HostPager(memory, swap, random, lifecycle, freeMemory, config.costs(), counters, events,
        sharing);
    this.reclaimer = new Reclaimer(config.reclamation(), config.balloonStallNanos(), memory, freeMemory, pager,
        balloon, config.costs(), clock, counters, sharing, events);
    this.validator = new BatchValidator(config.maxBatchAccesses());
    this.dataPath = new DataPath(memory, swap, config.costs(), pager, balloon, reclaimer, freeMemory, sharing);
    this.views = new MachineViews(config, clock, memory, swap, counters, freeMemory, lifecycle, reclaimer, sharing);
  }

  public MachineConfig config() {
    return config;
  }

  public CostModel costs() {
    return config.costs();
  }

  /** The machine's time source: the lab clock's time, or the wall clock's on a hypervisor that runs free. */
  public LongSupplier clock() {
    return clock;
  }

  /** What happened on this machine lately, for operators who follow it. */
  public EventLog events() {
    return events;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Powers a VM on with nothing reserved and the default shares. */
  public synchronized Vm powerOn(String name, String osKind, long memoryPages) {
    return powerOn(name, osKind, memoryPages, 0, 0, TranslationMode.NESTED);
  }

  /** Powers a VM on with nothing reserved and the default shares, translated in {@code mode}. */
  public synchronized Vm powerOn(String name, String osKind, long memoryPages, TranslationMode mode) {
    return powerOn(name, osKind, memoryPages, 0, 0, mode);
  }

  /** Powers a VM on with nested translation, reserving {@code minPages} of machine memory for it. */
  public synchronized Vm powerOn(String name, String osKind, long memoryPages, long minPages, long shares) {
    return powerOn(name, osKind, memoryPages, minPages, shares, TranslationMode.NESTED);
  }

  /**
   * Powers a VM on with an empty P2M, reserving {@code minPages} of machine memory for it, translated in
   * {@code mode}.
   *
   * @param minPages memory reserved for the VM (0..memoryPages)
   * @param shares its shares, or 0 for the default of 10 per MiB of configured memory
   * @param mode how its addresses are translated ({@code null} for nested)
   * @throws MachineException INVALID_ARGUMENT for a bad name, kind, size, min or shares; ALREADY_EXISTS for a name
   *     in use; RESOURCE_EXHAUSTED when the machine cannot reserve {@code minPages} on top of the reservations of
   *     the VMs already on
   */
  public synchronized Vm powerOn(String name, String osKind, long memoryPages, long minPages, long shares,
                                 TranslationMode mode) {
    return powerOn(name, osKind, memoryPages, minPages, shares, mode, "");
  }

  /**
   * Powers a VM on as above under the client's {@code requestId} ({@code PowerOnRequest.request_id}, empty for
   * none): while that VM exists, the same id and spec answer it again; another spec is ALREADY_EXISTS.
   */
  public synchronized Vm powerOn(String name, String osKind, long memoryPages, long minPages, long shares,
                                 TranslationMode mode, String requestId) {
    return lifecycle.powerOnChecked(name, osKind, memoryPages, minPages, shares, mode, requestId);
  }

  /**
   * Finds a VM and checks the caller's credential for it.
   *
   * @throws MachineException NOT_FOUND or PERMISSION_DENIED
   */
  public synchronized Vm authenticate(int vmId, String credential) {
    return lifecycle.authenticate(vmId, credential);
  }

  /** Powers a VM off: zero-cost release of all its frames and swap slots. Returns its final state. */
  public synchronized VmSnapshot powerOff(int vmId, String credential) {
    Vm vm = lifecycle.authenticate(vmId, credential);
    VmSnapshot last = views.vm(vm);
    lifecycle.release(vm, EventKind.VM_POWERED_OFF, "powered off by its guest");
    return last;
  }

  /**
   * Powers a VM off on an operator's order, as pulling its power would: all its frames and swap slots are freed
   * at once. Its guest learns of it when its next access is refused. Returns the VM's last state.
   *
   * @throws MachineException FAILED_PRECONDITION if it is already off
   */
  public synchronized VmSnapshot powerOffByOperator(Vm vm) {
    vm.requirePoweredOn();
    VmSnapshot last = views.vm(vm);
    lifecycle.release(vm, EventKind.VM_POWERED_OFF, "powered off by the operator");
    return last;
  }

  /**
   * Binds an access stream to the VM.
   *
   * @throws MachineException FAILED_PRECONDITION if another stream is attached
   */
  public synchronized void attach(Vm vm) {
    lifecycle.attach(vm);
  }

  /** The guest closed its stream cleanly; the VM stays on for the detach timeout. */
  public synchronized void detach(Vm vm) {
    lifecycle.detach(vm);
  }

  /**
   * The lab clock gave up on a VM that stopped answering: release it as if its stream had broken, saying why.
   */
  public synchronized void releaseStraggler(Vm vm, String why) {
    if (vm.poweredOn) {
      lifecycle.release(vm, EventKind.VM_RELEASED, why);
    }
  }

  /** Told a VM's id, under the machine's lock, whenever the VM is released for any reason. */
  public synchronized void onRelease(IntConsumer listener) {
    lifecycle.onRelease(listener);
  }

  /** The guest's stream broke (its process died, the network went away): release the VM at once. */
  public synchronized void connectionLost(Vm vm) {
    if (vm.poweredOn) {
      lifecycle.release(vm, EventKind.VM_RELEASED, "its access stream broke");
    }
  }

  /**
   * Powers off every VM left without an attached stream for longer than {@code timeoutNanos}, a wall-clock grace.
   *
   * @param nowNanos {@link System#nanoTime()} now
   */
  public synchronized int reapDetached(long nowNanos, long timeoutNanos) {
    return lifecycle.reapDetached(nowNanos, timeoutNanos);
  }

  /** A VM by id for operators, without a credential. @throws MachineException NOT_FOUND */
  public synchronized Vm vmById(int id) {
    return lifecycle.byId(id);
  }

  /** A VM by name for operators. @throws MachineException NOT_FOUND */
  public synchronized Vm vmByName(String name) {
    return lifecycle.byName(name);
  }

  // ---------------------------------------------------------------- data path

  /**
   * Checks a batch before anything is applied. Needs no lock.
   *
   * @throws MachineException INVALID_ARGUMENT naming the first bad access
   */
  public void validateBatch(Vm vm, int count, byte[] ops, int[] pfns, int writeCount) {
    validator.validate(vm, count, ops, pfns, null, null, writeCount);
  }

  /**
   * Checks a batch that says, for every entry, which address space and VPN it concerns ({@code asids} and
   * {@code vpns} both {@code null}: every entry is a kernel access), before anything is applied. Needs no lock.
   *
   * @throws MachineException INVALID_ARGUMENT naming the first bad entry
   */
  public void validateBatch(Vm vm, int count, byte[] ops, int[] pfns, char[] asids, int[] vpns, int writeCount) {
    validator.validate(vm, count, ops, pfns, asids, vpns, writeCount);
  }

  /**
   * Applies a validated batch in order: writes store their tokens, reads put their values in {@code readsOut}.
   *
   * @throws MachineException FAILED_PRECONDITION if the VM is off; RESOURCE_EXHAUSTED if machine memory and host
   *     swap together could not absorb the batch (checked before anything is applied)
   */
  public synchronized void applyBatch(Vm vm, int count, byte[] ops, int[] pfns, long[] writeValues, long[] readsOut,
                                      BatchResult result) {
    applyBatch(vm, true, count, ops, pfns, null, null, writeValues, readsOut, result);
  }

  /**
   * Applies a validated batch of accesses and page-table events in order; {@code asids} and {@code vpns} may both
   * be {@code null}, making every entry a kernel access.
   *
   * <p>A refusal (a {@link MachineException}) is decided before anything is applied and changes nothing. Anything
   * else thrown while the batch is applied, a bug or an {@link Error} such as {@link OutOfMemoryError}, may have
   * left part of the batch applied, so the VM is powered off at once, under the lock that saw the failure, with
   * every frame and host swap slot it held returned: no VM is left attached with its memory held.
   *
   * @throws MachineException FAILED_PRECONDITION if the VM is off; RESOURCE_EXHAUSTED if machine memory and host
   *     swap together could not absorb the batch, or its translation tables would grow past their limit (both
   *     checked before anything is applied); INTERNAL if applying it failed and the VM was powered off
   */
  public synchronized void applyBatch(Vm vm, int count, byte[] ops, int[] pfns, char[] asids, int[] vpns,
                                      long[] writeValues, long[] readsOut, BatchResult result) {
    applyBatch(vm, true, count, ops, pfns, asids, vpns, writeValues, readsOut, result);
  }

  /**
   * As {@link #applyBatch(Vm, int, byte[], int[], char[], int[], long[], long[], BatchResult)}, saying whether
   * the batch is the workload's: a batch that is not (the guest's shutdown audit) is applied and charged the
   * same, but the activity sampler does not count its touches. Swap-out reads never count.
   */
  public synchronized void applyBatch(Vm vm, boolean workload, int count, byte[] ops, int[] pfns, char[] asids,
                                      int[] vpns, long[] writeValues, long[] readsOut, BatchResult result) {
    try {
      dataPath.apply(vm, workload, count, ops, pfns, asids, vpns, writeValues, readsOut, result);
    } catch (MachineException e) {
      throw e;
    } catch (RuntimeException | Error e) {
      throw powerOffAfterFailure(vm, "applying its batch", e);
    }
  }

  /**
   * Powers {@code vm} off because handling one of its requests failed inside the hypervisor ({@code failure} is
   * not a refusal), returning every frame it owns, those its P2M lost track of included. Answers what its guest
   * is to be told.
   *
   * @param what what failed, such as "applying its batch"
   */
  public synchronized MachineException powerOffAfterFailure(Vm vm, String what, Throwable failure) {
    return lifecycle.powerOffAfterFailure(vm, what, failure);
  }

  /**
   * Fault injection, for tests only: {@code hook} is told the index of every entry of every batch before it is
   * applied, under the machine's lock, and may throw anything to play a bug or an {@link Error} in the data path.
   *
   * @param hook {@code null} to stop injecting
   */
  public synchronized void injectBatchFaultForTests(IntConsumer hook) {
    dataPath.injectFault(hook);
  }

  /**
   * Records what the guest last reported about itself, and lets the VM's activity sampler close the periods its
   * simulated time has passed.
   */
  public synchronized void recordGuestView(Vm vm, GuestStatus view) {
    if (vm.poweredOn) {
      vm.guest = view;
      P2m p2m = vm.p2m;
      vm.sampler.advance(view.simulatedNs(), pfn -> P2m.isMapped(p2m.get(pfn)), random);
    }
  }

  // ---------------------------------------------------------------- balloon

  /** Called (under the machine's lock) with a VM id whenever that VM's balloon target, mode or reset changes. */
  public synchronized void onBalloonChange(IntConsumer listener) {
    balloon.onChange(listener);
  }

  /**
   * Opens a driver session, replacing any earlier one, and clears a pending reset. Pages locked under an earlier
   * session stay locked: the driver still holds them.
   *
   * @param batched whether the driver may lock and unlock batches; without it, one page a call
   * @param doorbell whether the driver may listen to the doorbell
   * @param stats whether the driver may report statistics
   */
  public synchronized BalloonSession openBalloonSession(Vm vm, boolean batched, boolean doorbell, boolean stats) {
    return balloon.openSession(vm, batched, doorbell, stats);
  }

  /**
   * A driver stopped listening to its doorbell: it closed its session (it was unloaded, or it starts another).
   * If that session is still the VM's, the VM has no driver connected any more; its balloon stays as it is.
   */
  public synchronized void balloonHungUp(int vmId, long session) {
    Vm vm = lifecycle.find(vmId);
    if (vm != null) {
      balloon.hungUp(vm, session);
    }
  }

  /** The reply a driver of VM {@code vmId} would get now, or {@code null} if the VM is gone. */
  public synchronized BalloonReply balloonReplyOrNull(int vmId) {
    Vm vm = lifecycle.find(vmId);
    return vm == null ? null : vm.balloon.reply();
  }

  /**
   * Checks that a driver may listen to the doorbell and answers the current reply.
   *
   * @throws MachineException FAILED_PRECONDITION for a stale session or without the capability
   */
  public synchronized BalloonReply balloonDoorbell(Vm vm, long session) {
    return balloon.doorbell(vm, session);
  }

  /** The current target for {@code vm}'s driver. @throws MachineException FAILED_PRECONDITION for a stale session */
  public synchronized BalloonReply balloonTarget(Vm vm, long session) {
    return balloon.target(vm, session);
  }

  /**
   * Locks balloon pages (each PFN's frame or host swap slot is taken back; pages beyond the target are refused, so a
   * balloon never holds more than asked) or unlocks them (each gets a fresh zeroed frame on its next touch), under a
   * request id that makes a retry land once ({@code balloon.proto}, {@code BalloonPagesRequest.request_id}; 0 for
   * none). @throws MachineException as {@link #balloonRepeat}
   */
  public synchronized BalloonReply balloonMove(Vm vm, long session, long requestId, boolean lock, int[] pfns,
                                               int count, BalloonPageStatus[] statuses) {
    return balloon.move(vm, session, requestId, pfns, count, statuses,
        lock ? BalloonBackend.Direction.LOCK : BalloonBackend.Direction.UNLOCK);
  }

  /**
   * The remembered answer to a retry of the last Lock or Unlock applied with {@code requestId}, or {@code null}
   * if none was (a new request); changes nothing. @throws MachineException FAILED_PRECONDITION for a stale session
   * or an overtaken id; INVALID_ARGUMENT for a batch over the limit, a negative id or a retry with other pages
   */
  public synchronized BalloonReply balloonRepeat(Vm vm, long session, long requestId, boolean lock, int[] pfns,
                                                 int count, BalloonPageStatus[] statuses) {
    return balloon.repeat(vm, session, requestId, pfns, count, statuses,
        lock ? BalloonBackend.Direction.LOCK : BalloonBackend.Direction.UNLOCK);
  }

  /** Records a driver's stats call as contact. @throws MachineException FAILED_PRECONDITION without the capability */
  public synchronized BalloonReply balloonStats(Vm vm, long session) {
    return balloon.stats(vm, session);
  }

  /** Records a driver's stats call as contact and keeps the (validated) stats as the VM's latest. */
  public synchronized BalloonReply balloonStats(Vm vm, long session, MemoryStats stats) {
    BalloonReply reply = balloon.stats(vm, session);
    vm.guestStats = new GuestStats(stats, clock.getAsLong(), vm.guestStats == null ? 1 : vm.guestStats.reports() + 1);
    return reply;
  }

  /**
   * Sets a VM's balloon target, as an operator does by hand. The target stays pinned: the reclamation policy
   * leaves it alone until {@link #unpinBalloonTarget} hands it back.
   *
   * @throws MachineException INVALID_ARGUMENT outside 0..the VM's size minus its min
   */
  public synchronized VmSnapshot setBalloonTarget(Vm vm, long targetPages) {
    balloon.setOperatorTarget(vm, targetPages);
    return views.vm(vm);
  }

  /**
   * Changes the idle memory tax rate at run time: the machine's with {@code vm} null (VMs with a rate of their own
   * keep it), else {@code vm}'s own ({@code inherit} drops it, so the machine's applies again). The policy's next
   * decision uses it; the change is published as an event.
   *
   * @return the machine-wide rate afterwards
   * @throws MachineException INVALID_ARGUMENT for a rate outside 0..0.99 or NaN
   */
  public synchronized double setTau(Vm vm, double tau, boolean inherit) {
    boolean dropping = inherit && vm != null;
    if (!dropping && !(tau >= 0 && tau <= ReclamationSettings.MAX_TAU)) {
      throw MachineException.invalid("the idle memory tax rate tau must be from 0 to " + ReclamationSettings.MAX_TAU
          + ", got " + tau);
    }
    if (vm == null) {
      reclaimer.setTau(tau);
      events.publish(EventKind.TAU_CHANGED, 0, "", "idle memory tax rate tau set to " + tau + " machine-wide");
    } else {
      vm.requirePoweredOn();
      vm.ownTau = dropping ? Double.NaN : tau;
      events.publish(EventKind.TAU_CHANGED, vm.id(), vm.name(), dropping
          ? "idle memory tax rate: the machine's (" + reclaimer.tau() + ") applies again"
          : "idle memory tax rate tau set to " + tau + " for this VM");
    }
    return reclaimer.tau();
  }

  /** Hands a pinned balloon target back to the reclamation policy, which sets it from the next decision on. */
  public synchronized VmSnapshot unpinBalloonTarget(Vm vm) {
    reclaimer.unpin(vm);
    return views.vm(vm);
  }

  /** Passes an operator's driver-mode request to the VM's driver at its next contact, or at once by doorbell. */
  public synchronized VmSnapshot setDriverMode(Vm vm, DriverMode mode) {
    balloon.setDriverMode(vm, mode);
    return views.vm(vm);
  }

  // ---------------------------------------------------------------- reclamation

  /** Called (under the machine's lock, so it must not block) when the free-memory state gets worse. */
  public synchronized void onPressure(Runnable listener) {
    freeMemory.onPressure(listener);
  }

  /**
   * One decision of the reclamation policy: updates the free-memory state, gives every VM an allocation target,
   * sets the balloon targets from them (size minus allocation, less the pages in host swap while the driver
   * works; never into the min; in the high state only deflating), and below the high state pages down to its
   * target every VM above it whose balloon has stalled, and in the hard and low states as much as brings free
   * memory back over the hard state's exit.
   * Under the manual policy only the state is updated: targets are the operator's, and nothing is paged beyond
   * what faults need.
   */
  public synchronized void rebalance() {
    reclaimer.rebalance(lifecycle.vms());
  }

  /** One tick of the page-sharing scanner, worth {@code elapsedNs} of simulated time; answers the pages scanned. */
  public synchronized long scanForSharing(long elapsedNs) {
    return sharing.tick(lifecycle.vms(), elapsedNs);
  }

  /** The sharing scanner and table, for tests in this package. */
  PageSharing sharing() {
    return sharing;
  }

  // ---------------------------------------------------------------- views

  /** The machine and its VMs in one consistent snapshot. */
  public synchronized MachineSnapshot snapshot() {
    return views.machine();
  }

  /** One VM by id. @throws MachineException NOT_FOUND */
  public synchronized VmSnapshot vm(int id) {
    return views.vm(lifecycle.byId(id));
  }

  /** One VM by name. @throws MachineException NOT_FOUND */
  public synchronized VmSnapshot vm(String name) {
    return views.vm(lifecycle.byName(name));
  }

  /** The policy's latest decisions that moved a VM's target, oldest first. @throws MachineException NOT_FOUND */
  public synchronized List<TargetDecision> decisions(Vm vm) {
    vm.requirePoweredOn();
    return vm.decisions();
  }

  /**
   * Checks the frame table against the P2Ms, a full scan for tests: every frame is free or owned by exactly the
   * VM whose P2M maps it.
   *
   * @throws IllegalStateException describing the first inconsistency
   */
  public synchronized void checkInvariants() {
    MachineInvariants.check(memory, swap, lifecycle.vms(), lifecycle.swapReservedPages(), sharing);
  }

  @Override
  public synchronized void close() {
    swap.close();
  }
}
