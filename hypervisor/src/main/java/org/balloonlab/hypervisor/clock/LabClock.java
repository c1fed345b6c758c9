package org.balloonlab.hypervisor.clock;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The lab's simulated clock and the sequencer that applies every VM's operations in an order that depends only on
 * simulated time and VM identity ({@code docs/lab-clock.md}).
 *
 * <p><b>Conservative lockstep.</b> Lab time advances a quantum at a time. At each boundary every VM on the clock
 * (a <em>member</em>) is granted the next quantum and runs ahead within it; it ends its part with a done message.
 * When all members are done the clock processes the next boundary. This is how parallel simulators keep separate
 * processes in step (dist-gem5 and SST use quanta and barriers); the quantum bounds how late one VM may see
 * another's effects.
 *
 * <p><b>The sequencer.</b> Whatever a member does that may touch shared state (a batch of accesses, a balloon
 * call, its done message) is handed to {@link #submit} as an operation and applied by this class's one thread:
 * round-robin over the members that have not ended the quantum, in VM id order, one operation per turn, waiting
 * for the VM whose turn it is. A VM's own operations keep their order. The order in which frames are taken,
 * victims chosen and thresholds crossed is then a function of what the guests do, which depends on simulated
 * time only. The price is that a VM slower to produce its next operation holds up the others within a quantum;
 * the guests' pipelined batches hide most of it.
 *
 * <p><b>Boundaries.</b> At each boundary, in order: VMs that attached join; queued commands (operators' calls,
 * power-ons, releases) run; the {@link BoundaryWork} runs (the reclamation policy, when due); a holder that asked
 * for this lab time is told the clock is held here and the clock waits until it names a later time, running
 * commands as they come; pacing waits for the wall clock; members are granted the next quantum.
 *
 * <p><b>Wall time.</b> The clock reads the wall clock for two things only, both outside the model: pacing, and
 * the straggler grace after which a VM that stops producing operations is dropped (the run is then marked not
 * reproducible).
 *
 * <p><b>Threading.</b> One lock guards the clock's state; operations, commands and callbacks run on the
 * sequencer thread without it, so they may take the machine's lock. Callers never block: {@link #submit} and
 * {@link #command} queue and return, which matters because the gRPC handlers run on transport threads.
 */
public final class LabClock implements AutoCloseable {

  /** Operations a member may have queued before it is refused: a guest keeps a few batches in flight. */
  public static final int MAX_QUEUED_PER_VM = 256;

  final ClockSettings settings;
  final BoundaryWork boundaryWork;
  final LongSupplier wallNanos;
  final ReentrantLock lock = new ReentrantLock();
  final Condition changed = lock.newCondition();
  private final Sequencer loop;
  private final Thread sequencer;

  // Guarded by lock.
  final TreeMap<Integer, ClockSlot> members = new TreeMap<>();
  final TreeMap<Integer, ClockSlot> joining = new TreeMap<>();
  /**
   * VMs off the clock whose queued operations still run, in their order, before anything they send later: a VM
   * that leaves with batches queued (its audit, say) must not see a later batch overtake an earlier one.
   */
  final TreeMap<Integer, ClockSlot> draining = new TreeMap<>();
  final ArrayDeque<Runnable> commands = new ArrayDeque<>();
  final List<String> notReproducible = new ArrayList<>();
  long quantum;
  boolean running;
  ClockHolder holder;
  long holdUntil = -1;
  /** Whether the holder has been told about its latest request. */
  boolean holdAnswered;
  long heldAt = -1;
  boolean closed;
  long boundaries;
  long wallStart = Long.MIN_VALUE;
  volatile long labTimeNs;

  /**
   * @param boundaryWork what the machine does at each boundary
   * @param wallNanos the wall clock ({@link System#nanoTime()}), for pacing and the straggler grace only
   */
  public LabClock(ClockSettings settings, BoundaryWork boundaryWork, LongSupplier wallNanos) {
    this.settings = settings;
    this.boundaryWork = boundaryWork;
    this.wallNanos = wallNanos;
    this.loop = new Sequencer(this);
    this.sequencer = new Thread(loop::run, "lab-clock");
    this.sequencer.setDaemon(true);
  }

  public LabClock(ClockSettings settings, BoundaryWork boundaryWork) {
    this(settings, boundaryWork, System::nanoTime);
  }

  /** Starts the sequencer thread. */
  public LabClock start() {
    sequencer.start();
    return this;
  }

  public ClockSettings settings() {
    return settings;
  }

  /** Lab time now: the start of the quantum being run, or the boundary the clock waits at. */
  public long labTimeNs() {
    return labTimeNs;
  }

  // ------------------------------------------------------------------------------------------------ members

  /** A VM attached in lockstep: it joins at the next boundary and gets its first grant there. */
  public void join(int vmId, ClockMember member) {
    lock.lock();
    try {
      if (members.containsKey(vmId) || joining.containsKey(vmId)) {
        throw new IllegalStateException("VM " + vmId + " is already on the lab clock");
      }
      joining.put(vmId, new ClockSlot(vmId, member));
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Applies an operation of VM {@code vmId} in its turn, or at once on the calling thread if the VM is not on
   * the clock.
   *
   * @throws QueueFullException if the VM already has {@link #MAX_QUEUED_PER_VM} operations waiting
   */
  public void submit(int vmId, Runnable work) {
    if (!enqueue(vmId, new ClockSlot.Op(work, false, 0, false))) {
      work.run();
    }
  }

  /**
   * VM {@code vmId} ended quantum {@code quantumNumber} at VM time {@code vmTimeNs}; {@code record} runs when
   * the clock takes it, in the VM's turn. With {@code leaving}, the VM also leaves the clock.
   */
  public void done(int vmId, long quantumNumber, long vmTimeNs, boolean leaving, Runnable record) {
    Runnable work = () -> {
      record.run();
      lock.lock();
      try {
        ClockSlot s = members.get(vmId);
        if (s != null) {
          s.vmTimeNs = vmTimeNs;
        }
      } finally {
        lock.unlock();
      }
    };
    boolean now;
    lock.lock();
    try {
      ClockSlot s = slot(vmId);
      now = s == null;
      if (s != null && leaving && s.done && s.ops.isEmpty()) {
        // Between quanta (waiting for its next grant): nothing of it is pending, so it leaves at once.
        removeLocked(s, true);
        now = true;
      }
    } finally {
      lock.unlock();
    }
    // Outside the clock's lock: the work takes the machine's, and the machine calls the clock under its own.
    if (now || !enqueue(vmId, new ClockSlot.Op(work, true, quantumNumber, leaving))) {
      work.run();
    }
  }

  /** Rings VM {@code vmId}'s doorbell: its next grant says so. */
  public void ring(int vmId) {
    lock.lock();
    try {
      ClockSlot s = slot(vmId);
      if (s != null) {
        s.doorbell = true;
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * VM {@code vmId} is gone (released, powered off, its stream broke): the clock stops waiting for it. Operations
   * it had queued still run, in its turn order, so their callers get their answers.
   *
   * @param why recorded as the reason the run is not reproducible, when it happened while the clock ran
   */
  public void leave(int vmId, String why) {
    lock.lock();
    try {
      ClockSlot s = members.get(vmId);
      if (s == null) {
        s = joining.get(vmId);
      }
      if (s == null) {
        return;
      }
      removeLocked(s, false);
      if (isRunningLocked()) {
        notReproducibleLocked(why);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether the clock is running: a quantum is in progress, or the clock is about to grant the next one. It is
   * stopped only while a holder holds it at the current boundary, or while it idles with no member and no holder;
   * what happens then happens at that definite lab time.
   */
  boolean isRunningLocked() {
    if (running) {
      return true;
    }
    boolean held = holder != null && holdUntil <= labTimeNs;
    boolean idle = holder == null && members.isEmpty();
    return !held && !idle;
  }

  private ClockSlot slot(int vmId) {
    ClockSlot s = members.get(vmId);
    if (s == null) {
      s = joining.get(vmId);
    }
    return s != null ? s : draining.get(vmId);
  }

  private boolean enqueue(int vmId, ClockSlot.Op op) {
    lock.lock();
    try {
      ClockSlot s = slot(vmId);
      if (s == null) {
        return false;
      }
      if (s.ops.size() >= MAX_QUEUED_PER_VM) {
        throw new QueueFullException("VM " + vmId + " has " + MAX_QUEUED_PER_VM
            + " operations waiting for its turn on the lab clock; wait for answers before sending more");
      }
      s.ops.add(op);
      changed.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  void removeLocked(ClockSlot s, boolean leavingQuietly) {
    members.remove(s.vmId);
    joining.remove(s.vmId);
    s.done = true;
    if (!s.ops.isEmpty() && !draining.containsKey(s.vmId)) {
      draining.put(s.vmId, s);
      commands.add(() -> loop.drain(s));
    }
    if (leavingQuietly && isRunningLocked()) {
      notReproducibleLocked(s.member + " left the lab clock at lab time " + labTimeNs
          + " ns while the clock ran");
    }
    changed.signalAll();
  }

  // ----------------------------------------------------------------------------------------------- commands

  /**
   * Runs {@code command} on the sequencer at the next boundary (at once if the clock waits at one), after the
   * operations of the quantum in progress. Used for operators' calls, power-ons and releases, so they land at a
   * definite lab time.
   *
   * @param fromOperator marks the run not reproducible if the clock is running (the command landed where the
   *     wall clock put it)
   */
  public void command(Runnable command, boolean fromOperator) {
    lock.lock();
    try {
      if (fromOperator && isRunningLocked()) {
        notReproducibleLocked("an operator's command arrived at lab time " + labTimeNs + " ns while the clock ran");
      }
      commands.add(command);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** A command that does not affect reproducibility. */
  public void command(Runnable command) {
    command(command, false);
  }

  void notReproducibleLocked(String why) {
    if (notReproducible.size() < 32 && !notReproducible.contains(why)) {
      notReproducible.add(why);
    }
  }

  // ------------------------------------------------------------------------------------------------ holding

  /**
   * Asks the clock to run to {@code untilNs} (rounded up to a boundary) and hold there; {@code holder} is told
   * when it does. One holder at a time.
   *
   * @throws IllegalStateException if another holder holds the clock
   * @throws IllegalArgumentException for a time before the one already held
   */
  public void hold(ClockHolder who, long untilNs) {
    lock.lock();
    try {
      if (holder != null && holder != who) {
        throw new IllegalStateException("another client holds the lab clock");
      }
      long q = settings.quantumNs();
      long boundary = untilNs <= 0 ? 0 : ((untilNs + q - 1) / q) * q;
      if (holder == who && boundary < holdUntil) {
        throw new IllegalArgumentException("the clock is already held at " + holdUntil + " ns; it cannot go back to "
            + untilNs + " ns");
      }
      holder = who;
      holdUntil = boundary;
      // Every request is answered, one for the time the clock already stands at included.
      holdAnswered = false;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The holder lets go: the clock runs freely again. */
  public void release(ClockHolder who) {
    lock.lock();
    try {
      if (holder == who) {
        holder = null;
        holdUntil = -1;
        heldAt = -1;
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  public ClockState state() {
    lock.lock();
    try {
      long wall = wallStart == Long.MIN_VALUE ? 0 : wallNanos.getAsLong() - wallStart;
      return new ClockState(labTimeNs, settings.quantumNs(), settings.pace(), boundaries, members.size(), heldAt,
          notReproducible.isEmpty(), List.copyOf(notReproducible), wall);
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------- sequencer

  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (Thread.currentThread() != sequencer) {
      try {
        sequencer.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

}
