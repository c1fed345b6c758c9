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
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.os.GuestProcess;
import org.balloonlab.guest.os.GuestStatus;
import org.balloonlab.guest.workload.Workload;

/**
 * The guest's one virtual CPU: runs its processes round-robin, a time slice of accesses each, and reports the
 * guest's status to the hypervisor now and then.
 *
 * <p>When every process is idle the vCPU parks for a short real-time tick and its simulated clock advances by
 * the time it parked: idle time passes at wall-clock rate, busy time at the cost model's rate.
 */
public final class Vcpu implements Runnable {

  /**
   * How the vCPU runs.
   *
   * @param sliceAccesses accesses a process makes before the next one runs (a context switch)
   * @param reportEveryNanos real time between status reports
   * @param idleTickNanos real time the vCPU parks when no process has work
   * @param maxAccesses stop after this many accesses in all; 0 for no limit
   * @param deadlineNanos stop at this {@link System#nanoTime()}; 0 for no limit
   * @param seed seeds the workloads' random choices
   */
  public record Options(int sliceAccesses, long reportEveryNanos, long idleTickNanos, long maxAccesses,
                        long deadlineNanos, long seed) {
    public Options {
      if (sliceAccesses <= 0) {
        throw new IllegalArgumentException("a time slice needs at least one access");
      }
    }
  }

  private record Task(GuestProcess process, Workload workload, SplittableRandom random) {}

  private final GuestOs os;
  private final Options options;
  private final List<Task> tasks = new ArrayList<>();
  private volatile boolean stopRequested;
  private volatile GuestStatus lastStatus;
  private volatile boolean finished;
  private String currentWorkload = "";
  private final ConcurrentLinkedQueue<FutureTask<?>> cpuTasks = new ConcurrentLinkedQueue<>();
  private volatile Thread cpuThread;
  private volatile boolean acceptingTasks = true;

  public Vcpu(GuestOs os, Options options) {
    this.os = os;
    this.options = options;
  }

  /** Starts a process running {@code workload}. Call before {@link #run()}. */
  public GuestProcess start(String name, Workload workload) {
    GuestProcess p = os.spawn(name, workload.footprintPages());
    tasks.add(new Task(p, workload, new SplittableRandom(options.seed() * 1_000_003L + tasks.size())));
    return p;
  }

  /**
   * Runs kernel work (the balloon driver's allocations, for instance) on this vCPU between two time slices, as
   * a kernel thread would preempt a process, and waits for its result. The guest OS is single-threaded, so
   * this is the only way another thread may call into it while the vCPU runs.
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

  /** Asks the vCPU to stop after the current slice. */
  public void stop() {
    stopRequested = true;
    Thread cpu = cpuThread;
    if (cpu != null) {
      LockSupport.unpark(cpu);
    }
  }

  /** The status last reported, or {@code null} before the first report. */
  public GuestStatus lastStatus() {
    return lastStatus;
  }

  @Override
  public void run() {
    cpuThread = Thread.currentThread();
    try {
      runProcesses();
    } finally {
      acceptingTasks = false;
      cpuThread = null;
      cancelTasks();
    }
  }

  private void runProcesses() {
    long nextReport = System.nanoTime();
    long total = 0;
    boolean limitReached = false;
    while (!stopRequested && !limitReached) {
      boolean anyWork = false;
      boolean anyAlive = false;
      for (Task t : tasks) {
        if (t.process().exited()) {
          continue;
        }
        anyAlive = true;
        currentWorkload = t.workload().describe();
        int slice = options.sliceAccesses();
        for (int i = 0; i < slice; i++) {
          long a = t.workload().next(t.random());
          if (a == Workload.DONE) {
            os.exit(t.process());
            break;
          }
          if (a == Workload.IDLE) {
            break;
          }
          anyWork = true;
          os.access(t.process(), Workload.vpn(a), Workload.isWrite(a));
          if (options.maxAccesses() > 0 && ++total >= options.maxAccesses()) {
            limitReached = true;
            break;
          }
        }
        os.countContextSwitch();
        runTasks();
        if (limitReached || stopRequested) {
          break;
        }
      }
      long now = System.nanoTime();
      if (options.deadlineNanos() != 0 && now - options.deadlineNanos() >= 0) {
        limitReached = true;
      }
      if (!anyAlive) {
        limitReached = true;
      }
      if (now - nextReport >= 0) {
        report(false);
        nextReport = now + options.reportEveryNanos();
      }
      runTasks();
      if (!anyWork && anyAlive && !limitReached && cpuTasks.isEmpty()) {
        long before = System.nanoTime();
        LockSupport.parkNanos(options.idleTickNanos());
        os.chargeIdle(System.nanoTime() - before);
      }
    }
    finished = true;
    os.memory().flush();
    report(true);
  }

  /** Audits every page of every live process; call after {@link #run()} returns. */
  public void verifyAll() {
    os.verifyAll();
    report(finished);
  }

  private void report(boolean done) {
    GuestStatus s = os.status(describe(), done);
    lastStatus = s;
    os.memory().report(s);
  }

  private String describe() {
    return tasks.size() == 1 ? currentWorkload : tasks.size() + " processes, " + currentWorkload;
  }
}
