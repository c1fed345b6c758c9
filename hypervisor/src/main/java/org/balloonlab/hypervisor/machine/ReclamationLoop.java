package org.balloonlab.hypervisor.machine;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the machine's reclamation policy once a period on its own thread, and at once when the free-memory state
 * gets worse, so that a machine falling through the soft threshold between two periods is answered within
 * milliseconds rather than a period later.
 */
public final class ReclamationLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReclamationLoop.class);

  private final Machine machine;
  private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "reclamation");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean promptPending = new AtomicBoolean();
  private long periodNanos;

  public ReclamationLoop(Machine machine) {
    this.machine = machine;
  }

  /** Starts deciding every {@code periodNanos}. */
  public void start(long periodNanos) {
    this.periodNanos = periodNanos;
    machine.onPressure(() -> {
      if (promptPending.compareAndSet(false, true)) {
        executor.execute(this::promptly);
      }
    });
    executor.scheduleWithFixedDelay(this::tick, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * A periodic decision and a tick of the page-sharing scanner worth one period: the tick counts, not the wall
   * time between ticks, so a slow host scans as many pages a decision as a fast one.
   */
  private void tick() {
    decide();
    try {
      machine.scanForSharing(periodNanos);
    } catch (RuntimeException e) {
      log.error("page-sharing scan failed", e);
    }
  }

  private void promptly() {
    promptPending.set(false);
    decide();
  }

  private void decide() {
    try {
      machine.rebalance();
    } catch (RuntimeException e) {
      // One failed decision must not stop the next ones; the error is a bug worth a stack trace.
      log.error("reclamation decision failed", e);
    }
  }

  @Override
  public void close() {
    machine.onPressure(() -> { });
    executor.shutdownNow();
  }
}
