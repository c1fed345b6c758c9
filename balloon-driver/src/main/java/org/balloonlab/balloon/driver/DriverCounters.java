package org.balloonlab.balloon.driver;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Every decision the driver counts, as {@link DriverStats} reports them (see there for what each means).
 *
 * <p>Counters are {@link LongAdder}s rather than fields under the driver's lock: three threads count (the worker,
 * the kernel's thread in deflate-on-OOM, the transport's in the doorbell), and none of them should take a lock
 * only to add one. Whoever changes the balloon's state counts first and publishes the state after, so a reader
 * that sees the new state under the lock also sees the counts that led to it.
 */
final class DriverCounters {
  final LongAdder rounds = new LongAdder();
  final LongAdder sessionsStarted = new LongAdder();
  final LongAdder inflations = new LongAdder();
  final LongAdder deflations = new LongAdder();
  final LongAdder pagesLocked = new LongAdder();
  final LongAdder pagesUnlocked = new LongAdder();
  final LongAdder pagesRefused = new LongAdder();
  final LongAdder refusalBackoffs = new LongAdder();
  final LongAdder pagesRejected = new LongAdder();
  final LongAdder unlockFailures = new LongAdder();
  final LongAdder resets = new LongAdder();
  final LongAdder resetPages = new LongAdder();
  final LongAdder allocationFailures = new LongAdder();
  final LongAdder oomDeflations = new LongAdder();
  final LongAdder oomPages = new LongAdder();
  final LongAdder oomUntold = new LongAdder();
  final LongAdder hostErrors = new LongAdder();
  final LongAdder doorbellRings = new LongAdder();
  final LongAdder statsReports = new LongAdder();
  final LongAdder modeSwitches = new LongAdder();
  final LongAdder stuckEpisodes = new LongAdder();
  final LongAdder retries = new LongAdder();
  final LongAdder unknownOutcomes = new LongAdder();
  /** Not a count but a level: pages whose lock's outcome is unknown now, pinned until the hypervisor says. */
  final AtomicLong unknownPages = new AtomicLong();
}
