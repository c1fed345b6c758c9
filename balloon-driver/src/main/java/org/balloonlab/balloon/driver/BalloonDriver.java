package org.balloonlab.balloon.driver;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import org.balloonlab.balloon.driver.BalloonHost.PageStatus;
import org.balloonlab.balloon.driver.BalloonHost.Session;
import org.balloonlab.balloon.driver.BalloonHost.Target;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.DriverMode.Kind;
import org.balloonlab.domain.kernel.BalloonKernel;
import org.balloonlab.domain.kernel.MemoryStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest's balloon driver: one worker thread that moves guest pages into and out of the balloon so the
 * balloon's size follows the target the hypervisor sets. Modelled on Linux {@code vmw_balloon}, with what
 * {@code virtio_balloon} added (a doorbell, stats, deflate-on-OOM).
 *
 * <h2>The round</h2>
 * The worker runs one round per poll interval (1 s by default), or sooner when the doorbell rings or the mode
 * changes. Each round, in order:
 * <ol>
 *   <li><b>Mode.</b> {@code UNINSTALLED}: never connect; if the driver is switched to it while it holds pages,
 *       it first deflates completely, telling the hypervisor, then closes its session and stops talking.
 *       {@code LATE}: do nothing until {@code lateMillis} after {@link #start()}, then behave as enabled.</li>
 *   <li><b>Session.</b> Open one ({@code Start}) if there is none. A failed call is counted and retried next
 *       round; a stale session is dropped and a new one opened (the pages it locked stay in the balloon).</li>
 *   <li><b>Reset.</b> When any reply said RESET, the hypervisor has lost track of the balloon: every balloon
 *       page goes back to the kernel <em>without</em> an unlock, and a new session starts from an empty
 *       balloon.</li>
 *   <li><b>Target.</b> {@code GetTarget}, reporting the size. Every reply (this one and those to lock, unlock
 *       and stats) carries the target, a reset flag and the operator's requested mode, which the driver adopts
 *       when it changes.</li>
 *   <li><b>Inflate</b> toward {@code min(target, cap)}, where the cap is {@code capFraction} (65 %, as ESX)
 *       of guest memory: allocate a batch from the kernel without retrying, lock it at the hypervisor, keep
 *       the pages it accepted. A refused page is held on a refused list until the inflation ends, so the
 *       kernel cannot hand the same page straight back. Pages the hypervisor rejects otherwise (invalid,
 *       already locked, duplicate) go back to the kernel at once. After {@code maxRefusals} pages not taken,
 *       refused or rejected, the driver backs off until the next round (rejections count too, or a kernel that
 *       hands the same page back would keep the round spinning). When the kernel has nothing to give, the
 *       driver counts an allocation failure and waits for the next round rather than push the guest harder.</li>
 *   <li><b>Deflate</b> when the balloon exceeds {@code min(target, cap)}: unlock a batch at the hypervisor
 *       first, then free the pages to the kernel (the hypervisor must know before the guest may touch them).
 *       A page the hypervisor will not unlock stays in the balloon and deflation stops for the round.</li>
 *   <li><b>Stats</b>, if granted: the kernel's memory statistics, as virtio-balloon reports them.</li>
 *   <li><b>Wait</b> for the poll interval, the doorbell, a mode change or {@link #stop()}.</li>
 * </ol>
 *
 * <h2>Modes (fault injection)</h2>
 * {@code DISABLED} keeps polling and deflates when the target falls, but never inflates. {@code SLOW} inflates
 * through a token bucket of {@code pagesPerSecond} (at most one second of credit, on the injected clock), so it
 * locks batches of at most that many pages. {@code STUCK} hangs in the middle of an inflation, after it
 * allocated a batch and before it locks it, with {@code stuckProbability} per batch (1: at the first batch),
 * until the mode is switched away; while hung it makes no host calls, except one {@code GetTarget} each time the
 * doorbell rings, which is the only way an operator's new mode can reach it. Modes arrive from
 * {@link #setMode} or from the hypervisor's replies; a requested mode is adopted when the hypervisor's request
 * changes, so a local switch is not undone by the next reply repeating an old request.
 *
 * <h2>Deflate-on-OOM</h2>
 * {@link #start()} registers an {@link org.balloonlab.domain.kernel.OomNotifier}: when the kernel would otherwise
 * fail an allocation, the driver takes pages off the balloon, unlocks them at the hypervisor synchronously and
 * hands them to the kernel, which frees them itself. If the hypervisor cannot be reached the pages are handed
 * over anyway (counted as {@code oomUntold}): a guest that needs memory now matters more, and the hypervisor
 * resets the balloon when the guest touches a page it still thinks is ballooned. An OOM release ends an
 * inflation in progress; the balloon re-inflates at a later round if the target still asks for it (the
 * hypervisor, seeing the balloon shrink, is expected to lower the target).
 *
 * <h2>Threading</h2>
 * One lock guards the driver's state (the balloon list, target, mode, counters); it is never held while the
 * driver calls the kernel or the hypervisor, because the kernel may run calls on the guest's CPU thread and call
 * back into the OOM notifier, and the doorbell rings on a transport thread. Page lists are primitive int arrays
 * ({@link PfnList}): the balloon can hold millions of pages, and boxing them would cost more than the pages'
 * bookkeeping is worth. The arrays the driver passes to the kernel and the hypervisor are its reusable
 * buffers: implementations copy what they need and keep no reference.
 *
 * <h2>Trade-offs</h2>
 * Batches amortise a round trip over up to 512 pages (vmw_balloon's batched mode); smaller batches notice a
 * target change sooner mid-inflation but cost more calls. The cap keeps an over-eager target from pushing the
 * guest into thrashing, at the price of leaving the rest to hypervisor paging (ESX, OSDI 2002). Polling alone
 * bounds the reaction time by the poll interval; the doorbell removes that delay, and polling remains the
 * fallback when it is not granted or its stream breaks. Allocation never retries: a guest short of memory
 * sees the balloon wait for the next round rather than fight its workload for pages.
 */
public final class BalloonDriver {
  private static final Logger log = LoggerFactory.getLogger(BalloonDriver.class);
  private static final long STOP_JOIN_MILLIS = 10_000;
  private static final long MIN_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /**
   * How the driver runs.
   *
   * @param pollInterval how often the driver asks for its target without a doorbell (default 1 s)
   * @param batchPages most pages per lock or unlock call (default 512; the session may grant fewer)
   * @param capFraction the largest share of guest memory the balloon may hold (default 0.65)
   * @param maxRefusals refused pages after which an inflation round backs off (default 16)
   * @param initialMode the mode the driver starts in (default enabled)
   * @param vmName names the worker thread {@code balloon-<vmName>}
   */
  public record Config(Duration pollInterval, int batchPages, double capFraction, int maxRefusals,
                       DriverMode initialMode, String vmName) {
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
    public static final int DEFAULT_BATCH_PAGES = 512;
    public static final double DEFAULT_CAP_FRACTION = 0.65;
    public static final int DEFAULT_MAX_REFUSALS = 16;

    public Config {
      Objects.requireNonNull(pollInterval, "pollInterval");
      Objects.requireNonNull(initialMode, "initialMode");
      Objects.requireNonNull(vmName, "vmName");
      if (pollInterval.isZero() || pollInterval.isNegative()) {
        throw new IllegalArgumentException("the poll interval must be positive, got " + pollInterval);
      }
      if (batchPages < 1) {
        throw new IllegalArgumentException("a batch holds at least one page, got " + batchPages);
      }
      if (!(capFraction >= 0 && capFraction <= 1)) {
        throw new IllegalArgumentException("the cap is a fraction from 0 to 1, got " + capFraction);
      }
      if (maxRefusals < 1) {
        throw new IllegalArgumentException("max refusals must be at least 1, got " + maxRefusals);
      }
    }

    /** The defaults: 1 s poll, 512-page batches, 65 % cap, back off after 16 refusals, enabled. */
    public static Config defaults(String vmName) {
      return new Config(DEFAULT_POLL_INTERVAL, DEFAULT_BATCH_PAGES, DEFAULT_CAP_FRACTION, DEFAULT_MAX_REFUSALS,
          DriverMode.of(Kind.ENABLED), vmName);
    }

    public Config withPollInterval(Duration interval) {
      return new Config(interval, batchPages, capFraction, maxRefusals, initialMode, vmName);
    }

    public Config withBatchPages(int pages) {
      return new Config(pollInterval, pages, capFraction, maxRefusals, initialMode, vmName);
    }

    public Config withCapFraction(double fraction) {
      return new Config(pollInterval, batchPages, fraction, maxRefusals, initialMode, vmName);
    }

    public Config withMaxRefusals(int refusals) {
      return new Config(pollInterval, batchPages, capFraction, refusals, initialMode, vmName);
    }

    public Config withInitialMode(DriverMode mode) {
      return new Config(pollInterval, batchPages, capFraction, maxRefusals, mode, vmName);
    }
  }

  /**
   * A snapshot of the driver's state and of every decision it counted.
   *
   * @param mode the mode in force
   * @param connected whether the driver has a session
   * @param sessionId the session's id, 0 without one
   * @param targetPages the last target the hypervisor sent
   * @param sizePages pages in the balloon (locked at the hypervisor)
   * @param capPages the most pages the balloon may hold
   * @param stuck whether the worker hangs in a {@code STUCK} inflation now
   * @param rounds rounds the worker ran
   * @param sessionsStarted sessions opened
   * @param inflations rounds that locked at least one page
   * @param deflations rounds (and stops) that unlocked at least one page, OOM releases not included
   * @param pagesLocked pages the hypervisor accepted
   * @param pagesUnlocked pages the hypervisor released (OK or NOT_LOCKED), OOM releases included
   * @param pagesRefused pages the hypervisor refused
   * @param refusalBackoffs inflation rounds cut short by too many refusals
   * @param pagesRejected pages a lock rejected otherwise (invalid, already locked, duplicate, reset)
   * @param unlockFailures pages an unlock did not release; they stayed in the balloon
   * @param resets balloon resets
   * @param resetPages pages returned to the kernel by resets, without an unlock
   * @param allocationFailures inflation batches for which the kernel had no page
   * @param oomDeflations deflate-on-OOM calls that gave pages back
   * @param oomPages pages given back on OOM
   * @param oomUntold of those, pages handed over without the hypervisor's answer (it could not be reached)
   * @param hostErrors calls to the hypervisor that failed as a whole
   * @param doorbellRings doorbell rings received
   * @param statsReports stats reports sent
   * @param modeSwitches mode changes, local or requested
   * @param stuckEpisodes times the worker hung in {@code STUCK}
   */
  public record Stats(DriverMode mode, boolean connected, long sessionId, long targetPages, long sizePages,
                      long capPages, boolean stuck, long rounds, long sessionsStarted, long inflations,
                      long deflations, long pagesLocked, long pagesUnlocked, long pagesRefused,
                      long refusalBackoffs, long pagesRejected, long unlockFailures, long resets, long resetPages,
                      long allocationFailures, long oomDeflations, long oomPages, long oomUntold, long hostErrors,
                      long doorbellRings, long statsReports, long modeSwitches, long stuckEpisodes) {}

  private final BalloonKernel kernel;
  private final BalloonHost host;
  private final Config config;
  private final LongSupplier nanoClock;
  private final DoubleSupplier random;
  private final long pollNanos;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();

  // Guarded by lock. The worker is the only writer of session, so it reads it without the lock.
  private final PfnList balloon = new PfnList(1024);
  private Session session;
  private DriverMode mode;
  private DriverMode lastRequestedMode;
  private long target;
  private long cap;
  private boolean resetPending;
  private boolean wakeRequested;
  private boolean rung;
  private boolean stopping;
  private boolean deflateOnStop;
  private boolean stuck;
  private Thread worker;
  private long rounds;
  private long sessionsStarted;
  private long inflations;
  private long deflations;
  private long pagesLocked;
  private long pagesUnlocked;
  private long pagesRefused;
  private long refusalBackoffs;
  private long pagesRejected;
  private long unlockFailures;
  private long resets;
  private long resetPages;
  private long allocationFailures;
  private long oomDeflations;
  private long oomPages;
  private long oomUntold;
  private long hostErrors;
  private long doorbellRings;
  private long statsReports;
  private long modeSwitches;
  private long stuckEpisodes;

  // Owned by the worker thread. The batch buffers are allocated once: the worker reuses them every round.
  private final int[] batch;
  private final int[] spare;
  private final PageStatus[] statuses;
  private final PfnList refused = new PfnList();
  private final PfnList kept = new PfnList();
  private AutoCloseable doorbell;
  private long startNanos;
  private long waitNanos;
  private int errorStreak;
  private DriverMode bucketMode;
  private double tokens;
  private long tokensAt;

  /** A driver on the system clock, with its own random source for {@code STUCK}. */
  public BalloonDriver(BalloonKernel kernel, BalloonHost host, Config config) {
    this(kernel, host, config, System::nanoTime, new SplittableRandom()::nextDouble);
  }

  /**
   * A driver with an injected clock and random source, so {@code LATE}, {@code SLOW} and {@code STUCK} can be
   * tested (and simulated) without depending on wall-clock speed.
   *
   * @param nanoClock a monotonic clock in nanoseconds, like {@link System#nanoTime()}
   * @param random uniform doubles in [0, 1), drawn once per batch in {@code STUCK} mode
   */
  public BalloonDriver(BalloonKernel kernel, BalloonHost host, Config config, LongSupplier nanoClock,
                       DoubleSupplier random) {
    this.kernel = Objects.requireNonNull(kernel, "kernel");
    this.host = Objects.requireNonNull(host, "host");
    this.config = Objects.requireNonNull(config, "config");
    this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    this.random = Objects.requireNonNull(random, "random");
    this.pollNanos = config.pollInterval().toNanos();
    this.mode = config.initialMode();
    this.batch = new int[config.batchPages()];
    this.spare = new int[config.batchPages()];
    this.statuses = new PageStatus[config.batchPages()];
  }

  /**
   * Registers the deflate-on-OOM handler with the kernel and starts the worker thread ({@code balloon-<vm>},
   * a daemon). A driver starts once.
   */
  public void start() {
    Thread t;
    lock.lock();
    try {
      if (worker != null || stopping) {
        throw new IllegalStateException("the balloon driver of " + config.vmName() + " was already started");
      }
      startNanos = nanoClock.getAsLong();
      t = new Thread(this::runWorker, "balloon-" + config.vmName());
      t.setDaemon(true);
      worker = t;
    } finally {
      lock.unlock();
    }
    kernel.registerOomNotifier(this::releaseForOom);
    t.start();
  }

  /** Stops the worker and leaves the balloon as it is (the guest is going away; the pages stay locked). */
  public void stop() {
    stop(false);
  }

  /**
   * Stops the worker, waiting for it to finish its current call.
   *
   * @param deflate whether to deflate completely first, telling the hypervisor; otherwise the pages stay in
   *     the balloon (the OOM handler can still give them back)
   */
  public void stop(boolean deflate) {
    Thread t;
    lock.lock();
    try {
      t = worker;
      if (!stopping) {
        stopping = true;
        deflateOnStop = deflate;
      }
      wakeRequested = true;
      wake.signalAll();
    } finally {
      lock.unlock();
    }
    if (t == null || t == Thread.currentThread()) {
      return;
    }
    try {
      t.join(STOP_JOIN_MILLIS);
      if (t.isAlive()) {
        log.warn("balloon worker of {} did not stop within {} ms; interrupting it", config.vmName(),
            STOP_JOIN_MILLIS);
        t.interrupt();
        t.join(STOP_JOIN_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Switches the mode locally and wakes the worker; it acts on it in its next round (or unhangs). */
  public void setMode(DriverMode request) {
    Objects.requireNonNull(request, "request");
    lock.lock();
    try {
      if (!request.equals(mode)) {
        switchMode(request, "locally");
      }
    } finally {
      lock.unlock();
    }
  }

  /** Pages in the balloon now. */
  public long size() {
    lock.lock();
    try {
      return balloon.size();
    } finally {
      lock.unlock();
    }
  }

  public Stats stats() {
    lock.lock();
    try {
      Session s = session;
      return new Stats(mode, s != null, s == null ? 0 : s.id(), target, balloon.size(), cap, stuck, rounds,
          sessionsStarted, inflations, deflations, pagesLocked, pagesUnlocked, pagesRefused, refusalBackoffs,
          pagesRejected, unlockFailures, resets, resetPages, allocationFailures, oomDeflations, oomPages,
          oomUntold, hostErrors, doorbellRings, statsReports, modeSwitches, stuckEpisodes);
    } finally {
      lock.unlock();
    }
  }

  public Config config() {
    return config;
  }

  /** For tests: whether the calling thread holds the driver's lock (it must not when it calls out). */
  boolean holdsLock() {
    return lock.isHeldByCurrentThread();
  }

  // ---------------------------------------------------------------------------------------------- the worker

  private void runWorker() {
    log.debug("balloon driver of {} started in mode {}", config.vmName(), config.initialMode());
    while (true) {
      DriverMode m;
      lock.lock();
      try {
        if (stopping) {
          break;
        }
        rounds++;
        m = mode;
      } finally {
        lock.unlock();
      }
      waitNanos = pollNanos;
      try {
        round(m);
      } catch (BalloonHostException e) {
        onHostError(e);
      } catch (RuntimeException e) {
        log.error("balloon round of {} failed", config.vmName(), e);
      }
      awaitNextRound();
    }
    finish();
    log.debug("balloon driver of {} stopped", config.vmName());
  }

  private void round(DriverMode m) {
    if (m.kind() == Kind.UNINSTALLED) {
      uninstalledRound();
      return;
    }
    if (m.kind() == Kind.LATE) {
      long left = TimeUnit.MILLISECONDS.toNanos(m.lateMillis()) - (nanoClock.getAsLong() - startNanos);
      if (left > 0) {
        waitNanos = Math.min(waitNanos, Math.max(left, MIN_WAIT_NANOS));
        return;
      }
    }
    Session s = ensureSession();
    if (isResetPending()) {
      resetBalloon();
      s = ensureSession();
    }
    long capPages = (long) Math.floor(config.capFraction() * kernel.totalPages());
    long size;
    lock.lock();
    try {
      // This GetTarget reads whatever a ring so far announced (the session's first ring included), so those
      // rings need no round of their own; a ring from now on still wakes the next one.
      rung = false;
      wakeRequested = false;
      size = balloon.size();
    } finally {
      lock.unlock();
    }
    Target t = host.getTarget(s.id(), size);
    lock.lock();
    try {
      cap = capPages;
      errorStreak = 0;
      absorb(t);
      if (resetPending || !mode.equals(m)) {
        // Start over at once: the reset or the new mode decides what this round should have done.
        wakeRequested = true;
        return;
      }
    } finally {
      lock.unlock();
    }
    inflate(s);
    deflate(s, false);
    if (isResetPending()) {
      requestRound();
      return;
    }
    if (s.stats() && !isStopping()) {
      MemoryStats ms = kernel.stats();
      Target r = host.reportStats(s.id(), ms);
      lock.lock();
      try {
        statsReports++;
        absorb(r);
      } finally {
        lock.unlock();
      }
    }
  }

  /** Uninstalled: give every page back (telling the hypervisor), then close the session and stay silent. */
  private void uninstalledRound() {
    if (isResetPending()) {
      // The hypervisor forgot the balloon: there is nothing to tell it.
      resetBalloon();
    } else if (size() > 0) {
      deflate(ensureSession(), true);
    }
    if (size() == 0) {
      closeSession();
    }
  }

  private Session ensureSession() {
    Session s = session;
    if (s != null) {
      return s;
    }
    s = host.start();
    Target t = s.target() != null ? s.target() : new Target(0, false, null);
    boolean drop;
    lock.lock();
    try {
      session = s;
      sessionsStarted++;
      // A new session is already the "start over" a reset asks for; only pages still held must go.
      absorb(new Target(t.targetPages(), false, t.requestedMode()));
      drop = t.reset() && !balloon.isEmpty();
    } finally {
      lock.unlock();
    }
    log.debug("balloon session {} of {}: batch {}, doorbell {}, stats {}", s.id(), config.vmName(),
        s.maxBatchPages(), s.doorbell(), s.stats());
    if (drop) {
      dropBalloon();
    }
    if (s.doorbell()) {
      try {
        doorbell = host.listenDoorbell(s.id(), this::ring);
      } catch (BalloonHostException e) {
        // Polling still works; the next session tries again.
        countHostError(e, "listening to the doorbell");
      }
    }
    return s;
  }

  private void closeSession() {
    AutoCloseable bell = doorbell;
    doorbell = null;
    lock.lock();
    try {
      session = null;
    } finally {
      lock.unlock();
    }
    if (bell != null) {
      try {
        bell.close();
      } catch (Exception e) {
        log.debug("closing the doorbell of {} failed", config.vmName(), e);
      }
    }
  }

  /** The hypervisor lost track of the balloon: give every page back without telling it, and start over. */
  private void resetBalloon() {
    closeSession();
    dropBalloon();
  }

  private void dropBalloon() {
    int[] pages;
    lock.lock();
    try {
      pages = balloon.toArray();
      balloon.clear();
      resetPending = false;
      resets++;
      resetPages += pages.length;
    } finally {
      lock.unlock();
    }
    log.info("balloon of {} reset: {} pages returned to the guest without unlocking", config.vmName(),
        pages.length);
    if (pages.length > 0) {
      kernel.freePages(pages, pages.length);
    }
  }

  /** Inflates toward {@code min(target, cap)} while the mode allows, in batches. */
  private void inflate(Session s) {
    int limit = batchLimit(s);
    int refusedThisRound = 0;
    boolean lockedAny = false;
    long oomAtStart = -1;
    try {
      while (true) {
        DriverMode cur;
        int want;
        lock.lock();
        try {
          if (oomAtStart < 0) {
            oomAtStart = oomDeflations;
          }
          cur = mode;
          long need = goal() - balloon.size();
          // A deflate-on-OOM during the inflation ends it: taking the pages straight back would only push the
          // guest toward the same wall. The next round may inflate again.
          if (stopping || resetPending || !inflates(cur) || need <= 0 || oomDeflations != oomAtStart) {
            break;
          }
          want = (int) Math.min(need, limit);
        } finally {
          lock.unlock();
        }
        if (cur.kind() == Kind.SLOW) {
          want = slowAllowance(cur, want);
          if (want == 0) {
            break;
          }
        } else {
          bucketMode = null;
        }
        int got = Math.min(kernel.allocatePages(batch, want), want);
        if (got <= 0) {
          lock.lock();
          try {
            allocationFailures++;
          } finally {
            lock.unlock();
          }
          break;
        }
        if (cur.kind() == Kind.SLOW) {
          tokens -= got;
        }
        if (cur.kind() == Kind.STUCK && hangsNow(cur)) {
          hangUntilUnstuck(s);
          got = trimAfterHang(got);
          if (got == 0) {
            break;
          }
        }
        Target t;
        try {
          t = host.lock(s.id(), batch, got, statuses);
        } catch (BalloonHostException e) {
          // The pages were not locked as far as the driver knows; if they were and the answer was lost, the
          // guest's next touch makes the hypervisor reset the balloon.
          kernel.freePages(batch, got);
          throw e;
        }
        int ok = 0;
        int rejected = 0;
        int refusedNow = 0;
        boolean resetSeen = false;
        for (int i = 0; i < got; i++) {
          int pfn = batch[i];
          PageStatus status = statuses[i];
          if (status == PageStatus.OK) {
            batch[ok++] = pfn;
          } else if (status == PageStatus.REFUSED) {
            refused.add(pfn);
            refusedNow++;
          } else {
            spare[rejected++] = pfn;
            resetSeen |= status == PageStatus.RESET;
          }
        }
        lock.lock();
        try {
          balloon.addAll(batch, ok);
          pagesLocked += ok;
          pagesRefused += refusedNow;
          pagesRejected += rejected;
          if (resetSeen) {
            resetPending = true;
          }
          absorb(t);
        } finally {
          lock.unlock();
        }
        if (rejected > 0) {
          kernel.freePages(spare, rejected);
        }
        lockedAny |= ok > 0;
        // Rejected pages count too: the kernel may hand the same ones straight back, and the round must end.
        refusedThisRound += refusedNow + rejected;
        if (refusedThisRound >= config.maxRefusals()) {
          lock.lock();
          try {
            refusalBackoffs++;
          } finally {
            lock.unlock();
          }
          log.debug("balloon of {}: {} pages refused, backing off", config.vmName(), refusedThisRound);
          break;
        }
      }
    } finally {
      if (!refused.isEmpty()) {
        kernel.freePages(refused.array(), refused.size());
        refused.clear();
      }
      if (lockedAny) {
        lock.lock();
        try {
          inflations++;
        } finally {
          lock.unlock();
        }
      }
    }
  }

  /**
   * Deflates to {@code min(target, cap)}, or to nothing: unlock a batch at the hypervisor, then free it to the
   * kernel.
   */
  private void deflate(Session s, boolean toEmpty) {
    int limit = batchLimit(s);
    boolean freedAny = false;
    try {
      while (true) {
        int n;
        lock.lock();
        try {
          if ((stopping && !deflateOnStop) || resetPending) {
            break;
          }
          long excess = balloon.size() - (toEmpty ? 0 : goal());
          if (excess <= 0) {
            break;
          }
          n = balloon.removeLast(batch, (int) Math.min(excess, limit));
        } finally {
          lock.unlock();
        }
        Target t;
        try {
          t = host.unlock(s.id(), batch, n, statuses);
        } catch (BalloonHostException e) {
          putBack(batch, n);
          throw e;
        }
        int free = 0;
        long unlocked = 0;
        boolean resetSeen = false;
        kept.clear();
        for (int i = 0; i < n; i++) {
          int pfn = batch[i];
          PageStatus status = statuses[i];
          if (status == PageStatus.OK || status == PageStatus.NOT_LOCKED) {
            batch[free++] = pfn;
            unlocked++;
          } else if (status == PageStatus.RESET) {
            // The hypervisor forgot the balloon: the page is the guest's again, as the reset will make all.
            batch[free++] = pfn;
            resetSeen = true;
          } else {
            kept.add(pfn);
          }
        }
        if (free > 0) {
          kernel.freePages(batch, free);
          freedAny = true;
        }
        lock.lock();
        try {
          pagesUnlocked += unlocked;
          unlockFailures += kept.size();
          balloon.addAll(kept.array(), kept.size());
          if (resetSeen) {
            resetPending = true;
          }
          absorb(t);
        } finally {
          lock.unlock();
        }
        if (!kept.isEmpty()) {
          log.debug("balloon of {}: the hypervisor would not unlock {} pages", config.vmName(), kept.size());
          break;
        }
      }
    } finally {
      if (freedAny) {
        lock.lock();
        try {
          deflations++;
        } finally {
          lock.unlock();
        }
      }
    }
  }

  /**
   * SLOW: how many pages the token bucket allows now, all of {@code want} (capped at one second of credit) or
   * nothing; when nothing, shortens the wait to when it will.
   */
  private int slowAllowance(DriverMode m, int want) {
    long now = nanoClock.getAsLong();
    double rate = Math.max(1, m.pagesPerSecond());
    if (!m.equals(bucketMode)) {
      bucketMode = m;
      tokens = 0;
      tokensAt = now;
    }
    tokens = Math.min(rate, tokens + Math.max(0, now - tokensAt) * rate / 1e9);
    tokensAt = now;
    // Wait for a whole batch rather than lock a trickle of tiny ones.
    int need = (int) Math.min(want, Math.floor(rate));
    if (tokens >= need) {
      return need;
    }
    long nanos = (long) Math.ceil((need - tokens) / rate * 1e9);
    waitNanos = Math.min(waitNanos, Math.max(nanos, MIN_WAIT_NANOS));
    return 0;
  }

  private boolean hangsNow(DriverMode m) {
    double p = m.stuckProbability();
    return p >= 1 || (p > 0 && random.getAsDouble() < p);
  }

  /**
   * STUCK: hangs with a batch allocated and not locked until the mode changes or the driver stops. Only a
   * doorbell ring makes it speak, once, to learn whether the operator lifted the request.
   */
  private void hangUntilUnstuck(Session s) {
    lock.lock();
    try {
      stuck = true;
      stuckEpisodes++;
      log.info("balloon driver of {} is stuck in the middle of an inflation", config.vmName());
      while (!stopping && mode.kind() == Kind.STUCK) {
        if (rung) {
          rung = false;
          long size = balloon.size();
          Target t = null;
          BalloonHostException failure = null;
          lock.unlock();
          try {
            t = host.getTarget(s.id(), size);
          } catch (BalloonHostException e) {
            failure = e;
          } finally {
            lock.lock();
          }
          if (t != null) {
            absorb(t);
          } else {
            hostErrors++;
            log.debug("stuck balloon driver of {} could not read its target", config.vmName(), failure);
          }
          continue;
        }
        try {
          wake.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          stopping = true;
        }
      }
      log.info("balloon driver of {} is no longer stuck (mode {})", config.vmName(), mode.kind());
    } finally {
      stuck = false;
      lock.unlock();
    }
  }

  /** After a hang, keeps only what the balloon still wants of the batch and frees the rest. */
  private int trimAfterHang(int got) {
    int keep;
    lock.lock();
    try {
      boolean go = !stopping && !resetPending && inflates(mode);
      keep = go ? (int) Math.max(0, Math.min(got, goal() - balloon.size())) : 0;
    } finally {
      lock.unlock();
    }
    if (keep < got) {
      int[] surplus = Arrays.copyOfRange(batch, keep, got);
      kernel.freePages(surplus, surplus.length);
    }
    return keep;
  }

  private void awaitNextRound() {
    lock.lock();
    try {
      long left = waitNanos;
      while (!stopping && !wakeRequested && left > 0) {
        left = wake.awaitNanos(left);
      }
      wakeRequested = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopping = true;
    } finally {
      lock.unlock();
    }
  }

  /** The worker's last act: deflate if asked, then close the session (the doorbell with it). */
  private void finish() {
    boolean deflate;
    lock.lock();
    try {
      deflate = deflateOnStop;
    } finally {
      lock.unlock();
    }
    try {
      if (deflate && isResetPending()) {
        resetBalloon();
      } else if (deflate && size() > 0) {
        deflate(ensureSession(), true);
      }
    } catch (BalloonHostException e) {
      countHostError(e, "deflating before stopping");
      log.warn("balloon of {} could not deflate before stopping; {} pages stay", config.vmName(), size());
    } catch (RuntimeException e) {
      log.error("balloon of {} failed while stopping", config.vmName(), e);
    } finally {
      closeSession();
    }
  }

  private void onHostError(BalloonHostException e) {
    countHostError(e, "round");
    if (e.kind() == BalloonHostException.Kind.STALE_SESSION) {
      // The pages stay in the balloon: a new session takes them over. Retry at once, but only once in a row.
      closeSession();
      if (errorStreak == 1) {
        requestRound();
      }
    }
  }

  private void countHostError(BalloonHostException e, String during) {
    lock.lock();
    try {
      hostErrors++;
    } finally {
      lock.unlock();
    }
    if (errorStreak++ == 0) {
      log.warn("balloon driver of {}: the hypervisor failed ({}, {}): {}", config.vmName(), during, e.kind(),
          e.getMessage());
    } else {
      log.debug("balloon driver of {}: the hypervisor failed again ({}, {})", config.vmName(), during, e.kind(),
          e);
    }
  }

  // ------------------------------------------------------------------------------- deflate-on-OOM, doorbell

  /** The OOM notifier: runs on the kernel's thread, never under the driver's lock while calling out. */
  private int releaseForOom(int[] out, int wanted) {
    int n;
    Session s;
    lock.lock();
    try {
      n = balloon.removeLast(out, Math.max(0, Math.min(wanted, out.length)));
      s = session;
    } finally {
      lock.unlock();
    }
    if (n == 0) {
      return 0;
    }
    int told = 0;
    if (s != null) {
      // Rare path: its own buffers, so it never shares the worker's.
      int[] chunk = new int[Math.min(batchLimit(s), n)];
      PageStatus[] st = new PageStatus[chunk.length];
      try {
        while (told < n) {
          int k = Math.min(chunk.length, n - told);
          System.arraycopy(out, told, chunk, 0, k);
          Target t = host.unlock(s.id(), chunk, k, st);
          long unlocked = 0;
          boolean resetSeen = false;
          for (int i = 0; i < k; i++) {
            unlocked += st[i] == PageStatus.OK || st[i] == PageStatus.NOT_LOCKED ? 1 : 0;
            resetSeen |= st[i] == PageStatus.RESET;
          }
          lock.lock();
          try {
            pagesUnlocked += unlocked;
            if (resetSeen) {
              resetPending = true;
            }
            absorb(t);
          } finally {
            lock.unlock();
          }
          told += k;
        }
      } catch (BalloonHostException e) {
        lock.lock();
        try {
          hostErrors++;
        } finally {
          lock.unlock();
        }
        log.warn("balloon of {}: could not tell the hypervisor about {} pages given back on OOM ({})",
            config.vmName(), n - told, e.getMessage());
      }
    }
    lock.lock();
    try {
      oomDeflations++;
      oomPages += n;
      oomUntold += n - told;
    } finally {
      lock.unlock();
    }
    log.debug("balloon of {} gave {} pages back on OOM", config.vmName(), n);
    return n;
  }

  /** The doorbell: runs on a transport thread. */
  private void ring() {
    lock.lock();
    try {
      doorbellRings++;
      rung = true;
      wakeRequested = true;
      wake.signalAll();
    } finally {
      lock.unlock();
    }
  }

  // --------------------------------------------------------------------------------------------- helpers

  /** Takes in what every reply carries. Called with the lock held. */
  private void absorb(Target t) {
    if (t == null) {
      return;
    }
    target = Math.max(0, t.targetPages());
    if (t.reset()) {
      resetPending = true;
    }
    DriverMode requested = t.requestedMode();
    if (!Objects.equals(requested, lastRequestedMode)) {
      // Adopt the operator's request when it changes, not on every reply that repeats it.
      lastRequestedMode = requested;
      if (requested != null && !requested.equals(mode)) {
        switchMode(requested, "by the hypervisor");
      }
    }
  }

  /** Called with the lock held. */
  private void switchMode(DriverMode request, String how) {
    log.info("balloon driver of {} switched {} from {} to {}", config.vmName(), how, mode, request);
    mode = request;
    modeSwitches++;
    wakeRequested = true;
    wake.signalAll();
  }

  /** The balloon's goal now. Called with the lock held. */
  private long goal() {
    return Math.max(0, Math.min(target, cap));
  }

  private static boolean inflates(DriverMode m) {
    return m.kind() != Kind.DISABLED && m.kind() != Kind.UNINSTALLED;
  }

  private int batchLimit(Session s) {
    int granted = !s.batched() ? 1 : s.maxBatchPages() > 0 ? s.maxBatchPages() : config.batchPages();
    return Math.max(1, Math.min(config.batchPages(), granted));
  }

  private boolean isResetPending() {
    lock.lock();
    try {
      return resetPending;
    } finally {
      lock.unlock();
    }
  }

  private boolean isStopping() {
    lock.lock();
    try {
      return stopping;
    } finally {
      lock.unlock();
    }
  }

  private void putBack(int[] pfns, int count) {
    lock.lock();
    try {
      balloon.addAll(pfns, count);
    } finally {
      lock.unlock();
    }
  }

  private void requestRound() {
    lock.lock();
    try {
      wakeRequested = true;
    } finally {
      lock.unlock();
    }
  }
}
