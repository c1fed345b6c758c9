package org.balloonlab.guest.vcpu;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.locks.LockSupport;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.os.GuestProcess;
import org.balloonlab.guest.workload.Workload;

/**
 * The guest's one virtual CPU: runs its processes round-robin, a time slice of accesses each, runs kernel work
 * between slices, and reports the guest's status.
 *
 * <h2>Time</h2>
 * The vCPU knows simulated time only. Busy time is what the cost model charges for each access and fault; idle time
 * is charged too: when no process has work (every workload idle, or every paced process asleep until its share is
 * due, see {@link Workload#ratePerSecond()}) the vCPU charges idle time up to the next moment something can happen.
 * Reports are due every {@code reportEveryNanos} of simulated time, and {@code durationNanos} ends the run at that
 * simulated time. Nothing here reads the wall clock.
 *
 * <h2>Lockstep</h2>
 * With a {@link LabClockLink} (a hypervisor that keeps the lab clock, docs/lab-clock.md) the vCPU runs only within
 * the quanta the link grants; the VM's lab time is the start of its first grant plus the guest's simulated time.
 * Each quantum it runs kernel work first ({@link QuantumStart}: the balloon driver's rounds, told whether the
 * doorbell rang), then time slices while its clock is below the quantum's end, idling the rest of the quantum when
 * no process has work; then it drains the access pipeline and answers with its VM time and, when one is due, its
 * report. Its clock is {@link GuestOs#clockNs()}, the hypervisor's charges as of the last drain, so where a quantum
 * ends does not depend on when the hypervisor's answers arrive: two runs of the same lab take the same decisions at
 * the same simulated instants. A VM already at or past a grant's end (hidden faults of an earlier quantum pushed it
 * there) answers at once and keeps the doorbell for the next quantum it runs in. Asked to stop, at its access limit
 * or duration, or when every process has finished, it answers with {@code leaving} and a final report; the audit
 * ({@link #verifyAll()}) then runs outside the clock.
 *
 * <h2>Free running</h2>
 * Without a link (a hypervisor that runs free) the vCPU runs at its own pace and sends its reports with its
 * batches. An idle vCPU charges a simulated idle tick and parks for as long on the wall clock, so an idle guest
 * neither spins nor floods its hypervisor with reports; the park only paces it, nothing measures it.
 */
public final class Vcpu implements Runnable {

  /**
   * How the vCPU runs.
   *
   * @param sliceAccesses accesses a process makes before the next one runs (a context switch)
   * @param reportEveryNanos simulated time between status reports; 0 reports as often as it can
   * @param idleTickNanos free running: the simulated idle time charged (and paced) at a time when no process has
   *     work
   * @param maxAccesses stop after this many accesses in all; 0 for no limit
   * @param durationNanos stop when the guest's simulated time reaches this; 0 for no limit
   * @param seed seeds the workloads' random choices
   */
  public record Options(int sliceAccesses, long reportEveryNanos, long idleTickNanos, long maxAccesses,
                        long durationNanos, long seed) {
    public Options {
      if (sliceAccesses <= 0) {
        throw new IllegalArgumentException("a time slice needs at least one access");
      }
      if (reportEveryNanos < 0 || idleTickNanos <= 0 || maxAccesses < 0 || durationNanos < 0) {
        throw new IllegalArgumentException("the report interval, limit and duration cannot be negative, and the "
            + "idle tick must be positive");
      }
    }
  }

  /** Kernel work the vCPU runs at the start of each quantum, before any process: the balloon driver's rounds. */
  @FunctionalInterface
  public interface QuantumStart {
    /**
     * @param vmTimeNs the VM's lab time now
     * @param doorbell whether the hypervisor rang the doorbell since the last call
     */
    void run(long vmTimeNs, boolean doorbell);
  }

  private final GuestOs os;
  private final Options options;
  private final LabClockLink link;
  private final List<Task> tasks = new ArrayList<>();
  private QuantumStart quantumStart;
  private volatile boolean stopRequested;
  private volatile GuestStatus lastStatus;
  private volatile long publishedNs;
  private volatile boolean finished;
  // Owned by the vCPU thread.
  private boolean ended;
  private boolean auditOnClock;
  private boolean audited;
  private long total;
  private long nextReportNs;
  /** The VM's lab time at guest time 0: the first grant's start less the guest's time then. */
  private long vmBaseNs;
  private boolean joined;
  /** The earliest wake-up of a paced process found asleep in the last pass; {@link Long#MAX_VALUE} for none. */
  private long nextWakeNs;
  private String currentWorkload = "";
  private final ConcurrentLinkedQueue<FutureTask<?>> cpuTasks = new ConcurrentLinkedQueue<>();
  private volatile Thread cpuThread;
  private volatile boolean acceptingTasks = true;

  /** A vCPU that runs free, at its own pace. */
  public Vcpu(GuestOs os, Options options) {
    this(os, options, null);
  }

  /**
   * A vCPU on the lab clock.
   *
   * @param link the lab clock's grants, or {@code null} to run free
   */
  public Vcpu(GuestOs os, Options options, LabClockLink link) {
    this.os = os;
    this.options = options;
    this.link = link;
  }

  /** Starts a process running {@code workload}. Call before {@link #run()}. */
  public GuestProcess start(String name, Workload workload) {
    GuestProcess p = os.spawn(name, workload.footprintPages());
    if (workload.filePages() > 0) {
      os.attachFiles(p, workload.filePages());
    }
    if (workload.dataPages() > 0) {
      os.attachDataSet(p, workload.dataSet(), workload.dataPages());
    }
    tasks.add(new Task(p, workload, new SplittableRandom(options.seed() * 1_000_003L + tasks.size())));
    return p;
  }

  /**
   * Sets the kernel work that runs at the start of each quantum on the lab clock (the balloon driver's
   * {@code runDue}). Call before {@link #run()}; a vCPU that runs free has no quanta and never calls it.
   */
  public void atQuantumStart(QuantumStart work) {
    this.quantumStart = work;
  }

  /**
   * Runs kernel work (the balloon driver's allocations, for instance) on this vCPU between two time slices, as
   * a kernel thread would preempt a process, and waits for its result. The guest OS is single-threaded, so
   * this is the only way another thread may call into it while the vCPU runs. On the lab clock nothing in the
   * guest agent calls it from another thread: such work would run at a moment that thread's timing chose (and,
   * while the clock is held, only in the next quantum); the driven balloon driver runs on the vCPU instead.
   *
   * @throws IllegalStateException if the vCPU has stopped
   */
  public <T> T onCpu(Callable<T> work) {
    if (Thread.currentThread() == cpuThread) {
      try {
        return work.call();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    if (!acceptingTasks) {
      throw new IllegalStateException("the vCPU has stopped");
    }
    FutureTask<T> task = new FutureTask<>(work);
    cpuTasks.add(task);
    Thread cpu = cpuThread;
    if (cpu != null) {
      LockSupport.unpark(cpu);
    }
    if (!acceptingTasks) {
      cancelTasks();
    }
    try {
      return task.get();
    } catch (CancellationException e) {
      throw new IllegalStateException("the vCPU has stopped", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      task.cancel(false);
      throw new IllegalStateException("interrupted while waiting for the vCPU", e);
    }
  }

  private void runTasks() {
    FutureTask<?> t;
    while ((t = cpuTasks.poll()) != null) {
      t.run();
    }
  }

  private void cancelTasks() {
    FutureTask<?> t;
    while ((t = cpuTasks.poll()) != null) {
      t.cancel(false);
    }
  }

  /** Asks the vCPU to stop after the current slice, or while it waits for a grant. */
  public void stop() {
    stopRequested = true;
    Thread cpu = cpuThread;
    if (cpu != null) {
      LockSupport.unpark(cpu);
    }
    if (link != null) {
      link.wake();
    }
  }

  /** The status last reported, or {@code null} before the first report. */
  public GuestStatus lastStatus() {
    return lastStatus;
  }

  /**
   * The guest's simulated time as of the vCPU's last step, readable from any thread: the clock of a balloon driver
   * that runs on a thread of its own.
   */
  public long simulatedNs() {
    return publishedNs;
  }

  @Override
  public void run() {
    cpuThread = Thread.currentThread();
    try {
      if (link == null) {
        runFree();
      } else {
        runLockstep();
      }
    } finally {
      acceptingTasks = false;
      cpuThread = null;
      cancelTasks();
    }
  }

  private void runFree() {
    os.boot();
    while (!stopRequested && !ended) {
      long idled = step(now() + options.idleTickNanos());
      if (now() >= nextReportNs) {
        os.memory().report(status(false));
      }
      if (idled > 0) {
        // Pacing, not measuring: an idle guest that did not wait would spin through simulated time and flood its
        // hypervisor with reports. What it charged is the simulated idle time, whatever the park lasts.
        LockSupport.parkNanos(idled);
      }
    }
    finished = true;
    os.memory().flush();
    os.memory().report(status(true));
  }

  private void runLockstep() {
    long lastQuantum = 0;
    boolean doorbell = false;
    LabClockLink.Grant g;
    while ((g = link.awaitGrant()) != null) {
      if (!joined) {
        joined = true;
        vmBaseNs = g.startNs() - now();
        // The kernel's boot writes go in the VM's first quantum, at a definite point of the lab's order.
        os.boot();
      }
      lastQuantum = g.quantum();
      doorbell |= g.doorbell();
      long endNs = g.endNs() - vmBaseNs;
      if (!stopRequested && !ended && now() < endNs) {
        if (quantumStart != null) {
          quantumStart.run(vmBaseNs + now(), doorbell);
        }
        doorbell = false;
        while (!stopRequested && !ended && now() < endNs) {
          step(endNs);
        }
        // The drain: every batch answered, so the clock and the report are exact.
        os.memory().flush();
      }
      boolean leaving = stopRequested || ended;
      if (ended && !stopRequested && auditOnClock && !audited) {
        // The workload ended by itself while the clock runs: audit now, in this VM's turns, so the audit's hidden
        // faults take frames at definite points of the lab's order rather than wherever the wall clock puts them.
        os.verifyAll();
        audited = true;
      }
      GuestStatus report = leaving || now() >= nextReportNs ? status(leaving) : null;
      finished = leaving;
      link.done(g.quantum(), vmBaseNs + now(), leaving, report);
      if (leaving) {
        return;
      }
    }
    // Asked to stop between two quanta: nothing is in flight, the clock is exact.
    finished = true;
    link.done(lastQuantum, vmBaseNs + now(), true, status(true));
  }

  /**
   * One pass of time slices over the processes; when none had work, idles toward {@code limitNs} (or the next
   * wake-up of a paced process, or the end of the run's duration, whichever comes first).
   *
   * @return the idle time charged, 0 after a pass with work
   */
  private long step(long limitNs) {
    boolean worked = pass();
    runTasks();
    if (os.swapFailure() != null) {
      // Kernel work on this vCPU (a balloon inflation's reclaim) hit a swap failure: the guest stops here.
      throw os.swapFailure();
    }
    long now = now();
    long idle = 0;
    if (!worked && !ended && !stopRequested && cpuTasks.isEmpty()) {
      long until = Math.min(limitNs, nextWakeNs);
      if (options.durationNanos() > 0) {
        until = Math.min(until, options.durationNanos());
      }
      if (until > now) {
        idle = until - now;
        os.chargeIdle(idle);
        now = until;
      }
    }
    if (options.durationNanos() > 0 && now >= options.durationNanos()) {
      ended = true;
    }
    publishedNs = now;
    return idle;
  }

  /** Gives each live process that is awake a time slice; answers whether any made an access. */
  private boolean pass() {
    boolean worked = false;
    boolean alive = false;
    nextWakeNs = Long.MAX_VALUE;
    for (Task t : tasks) {
      if (t.process.exited()) {
        continue;
      }
      alive = true;
      int slice = t.allowance(now(), options.sliceAccesses());
      if (slice == 0) {
        // Asleep until its share is due.
        nextWakeNs = Math.min(nextWakeNs, t.wakeNs(now()));
        continue;
      }
      currentWorkload = t.workload.describe();
      worked |= runSlice(t, slice);
      os.countContextSwitch();
      runTasks();
      if (ended || stopRequested) {
        break;
      }
    }
    if (!alive) {
      ended = true;
    }
    return worked;
  }

  private boolean runSlice(Task t, int slice) {
    boolean worked = false;
    for (int i = 0; i < slice; i++) {
      long a = t.workload.next(t.random);
      if (a == Workload.DONE) {
        os.exit(t.process);
        break;
      }
      if (a == Workload.IDLE) {
        break;
      }
      worked = true;
      if (Workload.isFile(a)) {
        os.fileAccess(t.process, Workload.vpn(a), Workload.isWrite(a));
      } else {
        os.access(t.process, Workload.vpn(a), Workload.isWrite(a));
      }
      t.countAccess();
      if (options.maxAccesses() > 0 && ++total >= options.maxAccesses()) {
        ended = true;
        break;
      }
    }
    return worked;
  }

  /** The vCPU's clock: the deterministic one on the lab clock, the latest charges when it runs free. */
  private long now() {
    return link != null ? os.clockNs() : os.simulatedNs();
  }

  /**
   * On the lab clock, audit every page before leaving when the workload ends by itself (a stop, which comes
   * while the clock may be held, still leaves first and audits after).
   */
  public void auditOnTheClock(boolean audit) {
    this.auditOnClock = audit;
  }

  /** Audits every page of every live process (unless it was audited on the clock) and reports; after {@link #run}. */
  public void verifyAll() {
    if (!audited) {
      os.verifyAll();
    }
    // On the lab clock the guest has left it by now: its report goes with its batches, as they come.
    os.memory().report(status(finished));
  }

  /** The guest's status now; makes it the last one and schedules the next report. */
  private GuestStatus status(boolean done) {
    GuestStatus s = os.status(describe(), done);
    lastStatus = s;
    long now = now();
    long every = options.reportEveryNanos();
    nextReportNs = every == 0 ? now : (now / every + 1) * every;
    return s;
  }

  private String describe() {
    return tasks.size() == 1 ? currentWorkload : tasks.size() + " processes, " + currentWorkload;
  }
}
