package org.balloonlab.balloon.driver;

import java.time.Duration;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import org.balloonlab.balloon.driver.BalloonHost.Session;
import org.balloonlab.balloon.driver.BalloonHost.Target;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.DriverMode.Kind;
import org.balloonlab.domain.kernel.BalloonKernel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest's balloon driver: a worker that moves guest pages into and out of the balloon so the balloon's size
 * follows the target the hypervisor sets. Modelled on Linux {@code vmw_balloon}, with what {@code virtio_balloon}
 * added (a doorbell, stats, deflate-on-OOM).
 *
 * <h2>Two ways to run</h2>
 * <b>Driven</b> ({@link #driven}), for a guest on the lab clock: no thread and no doorbell stream; the guest's vCPU
 * calls {@link #runDue} at the start of each quantum with the VM's time and whether the quantum's grant rang the
 * doorbell, and the rounds that are due run there, on simulated time, in an order that depends on nothing else.
 * <b>Threaded</b> ({@link #start()}): a worker thread of its own, woken by the doorbell stream, for a hypervisor
 * that runs free (and the harnesses that measure the driver). Both run the same round.
 *
 * <h2>The round</h2>
 * A round runs once per poll interval (1 s by default), or sooner when the doorbell rings or the mode changes
 * (driven: at most {@value #MAX_ROUNDS_PER_CALL} rounds per call). Each round, in order:
 * <ol>
 *   <li><b>Mode.</b> {@code UNINSTALLED}: never connect; if the driver is switched to it while it holds pages,
 *       it first deflates completely, telling the hypervisor, then closes its session and stops talking.
 *       {@code LATE}: do nothing until {@code lateMillis} after boot (the start, or the first {@link #runDue}),
 *       then behave as enabled.</li>
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
 *       the pages it accepted ({@link Inflation}: refused pages wait until the inflation ends, rejected ones go
 *       back at once, {@code maxRefusals} pages not taken end the round's inflation, and so does a kernel with
 *       nothing to give).</li>
 *   <li><b>Deflate</b> when the balloon exceeds {@code min(target, cap)}: unlock a batch at the hypervisor
 *       first, then free the pages to the kernel (the hypervisor must know before the guest may touch them).
 *       A page the hypervisor will not unlock stays in the balloon and deflation stops for the round.</li>
 *   <li><b>Stats</b>, if granted: the kernel's memory statistics, as virtio-balloon reports them.</li>
 *   <li><b>Wait</b> for the poll interval, the doorbell, a mode change or {@link #stop()} (driven: return; the
 *       next round is due at the next call past the interval, or with a doorbell or a request).</li>
 * </ol>
 *
 * <h2>Modes (fault injection)</h2>
 * {@code DISABLED} keeps polling and deflates when the target falls, but never inflates. {@code SLOW} inflates
 * through a token bucket of {@code pagesPerSecond} (at most one second of credit, on the injected clock), so it
 * locks batches of at most that many pages. {@code STUCK} hangs in the middle of an inflation, after it
 * allocated a batch and before it locks it, with {@code stuckProbability} per batch (1: at the first batch),
 * until the mode is switched away; while hung it makes no host calls, except one {@code GetTarget} each time the
 * doorbell rings, which is the only way an operator's new mode can reach it. (Driven, the round returns where it
 * would hang and the driver stays hung from call to call.) Time is the injected clock's, the guest's simulated
 * time; chance is the injected random source's, seeded from the guest's seed. Modes arrive from
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
 * <h2>Threading and structure</h2>
 * {@link BalloonState} holds the state the worker, the kernel's OOM path, the doorbell and callers share (the
 * balloon list, session, target, mode) under one lock, which is never held while the driver calls the kernel
 * or the hypervisor: the kernel may run calls on the guest's CPU thread and call back into the OOM notifier,
 * and the doorbell rings on a transport thread (threaded mode). Counters are {@link DriverCounters}, apart from
 * that lock. This class is the facade and the round; {@link Inflation} and {@link Deflation} (which also answers the
 * OOM notifier) do the page work, and {@link FaultModes} what the fault-injection modes change. Page lists are
 * primitive int arrays ({@link PfnList}): the balloon can hold millions of pages, and boxing them would cost
 * more than the pages' bookkeeping is worth. The arrays the driver passes to the kernel and the hypervisor are
 * its reusable buffers: implementations copy what they need and keep no reference.
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
  /** Rounds one {@link #runDue} call runs at most: a reset or a mode change asks for another at once. */
  static final int MAX_ROUNDS_PER_CALL = 4;

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

    public Config withInitialMode(DriverMode mode) {
      return new Config(pollInterval, batchPages, capFraction, maxRefusals, mode, vmName);
    }
  }

  private final BalloonKernel kernel;
  private final BalloonHost host;
  private final Config config;
  private final long pollNanos;
  private final DriverCounters counters = new DriverCounters();
  private final BalloonState state;
  private final FaultModes modes;
  private final Inflation inflation;
  private final Deflation deflation;
  private final PageCalls calls;
  /** Driven by {@link #runDue} rather than a thread of its own. */
  private final boolean driven;

  // Owned by the thread that runs the rounds.
  private final HostErrors hostErrors;
  private AutoCloseable doorbell;
  private long waitNanos;
  // Driven mode: the time the last runDue gave, when the next round is due, and whether it has booted or finished.
  private long drivenNowNs;
  private long nextRoundNs;
  private boolean booted;
  private boolean finished;

  /**
   * A threaded driver on the wall clock with an unseeded random source: for harnesses that measure the driver in
   * wall time, outside any lab. A guest passes its own clock and seeded random source, or drives the driver.
   */
  public BalloonDriver(BalloonKernel kernel, BalloonHost host, Config config) {
    this(kernel, host, config, System::nanoTime, new SplittableRandom()::nextDouble);
  }

  /**
   * A threaded driver with an injected clock and random source, so {@code LATE}, {@code SLOW} and {@code STUCK}
   * follow simulated time and a seed, and tests do not depend on wall-clock speed.
   *
   * @param nanoClock a monotonic clock in nanoseconds: the guest's simulated time, or a test's
   * @param random uniform doubles in [0, 1), drawn once per batch in {@code STUCK} mode
   */
  public BalloonDriver(BalloonKernel kernel, BalloonHost host, Config config, LongSupplier nanoClock,
                       DoubleSupplier random) {
    this(kernel, host, config, Objects.requireNonNull(nanoClock, "nanoClock"), random, false);
  }

  private BalloonDriver(BalloonKernel kernel, BalloonHost host, Config config, LongSupplier nanoClock,
                        DoubleSupplier random, boolean driven) {
    this.kernel = Objects.requireNonNull(kernel, "kernel");
    this.host = Objects.requireNonNull(host, "host");
    this.config = Objects.requireNonNull(config, "config");
    this.driven = driven;
    this.pollNanos = config.pollInterval().toNanos();
    this.state = new BalloonState(config.initialMode(), counters, config.vmName());
    LongSupplier clock = driven ? () -> drivenNowNs : nanoClock;
    this.modes = new FaultModes(host, state, counters, clock, Objects.requireNonNull(random, "random"),
        config.vmName(), !driven);
    this.calls = new PageCalls(host, counters, config.vmName());
    this.inflation = new Inflation(kernel, calls, state, counters, modes, config);
    this.deflation = new Deflation(kernel, host, calls, state, counters, config);
    this.hostErrors = new HostErrors(counters, config.vmName());
  }

  /**
   * A driver the guest's vCPU drives ({@link #runDue}) on simulated time: no worker thread, no doorbell stream.
   * Its calls to the kernel and the hypervisor run on the thread that calls {@link #runDue} or {@link #stop()}.
   *
   * @param random uniform doubles in [0, 1), drawn once per batch in {@code STUCK} mode: seed it
   */
  public static BalloonDriver driven(BalloonKernel kernel, BalloonHost host, Config config, DoubleSupplier random) {
    return new BalloonDriver(kernel, host, config, null, random, true);
  }

  /**
   * Registers the deflate-on-OOM handler with the kernel and, unless the driver is driven, starts the worker
   * thread ({@code balloon-<vm>}, a daemon). A driver starts once.
   */
  public void start() {
    if (driven) {
      state.claimStart(null);
      kernel.registerOomNotifier(deflation::releaseForOom);
      return;
    }
    Thread t = new Thread(this::runWorker, "balloon-" + config.vmName());
    t.setDaemon(true);
    state.claimStart(t);
    modes.markStart();
    kernel.registerOomNotifier(deflation::releaseForOom);
    t.start();
  }

  /**
   * Driven mode: runs what is due at VM time {@code nowNs}, on the calling thread (the guest's vCPU, at the start
   * of a quantum). A round is due when the doorbell rang, when the poll interval (simulated) has passed since the
   * last round, or when the driver asked for one (a reset, a mode change); at most {@value #MAX_ROUNDS_PER_CALL}
   * run. The first call boots the driver: {@code LATE} counts from it. A hung {@code STUCK} driver runs no round:
   * it reads its target when the doorbell rang, and once its mode changes it resumes the inflation it hung in.
   *
   * @param doorbell whether the hypervisor rang the doorbell since the last call
   * @throws IllegalStateException if the driver has a thread of its own, or was not started
   */
  public void runDue(long nowNs, boolean doorbell) {
    if (!driven || !state.isStarted()) {
      throw new IllegalStateException("the balloon driver of " + config.vmName()
          + (driven ? " was not started" : " runs on its own thread"));
    }
    drivenNowNs = nowNs;
    if (!booted) {
      booted = true;
      modes.markStart();
      nextRoundNs = nowNs;
    }
    if (doorbell) {
      state.ring();
    }
    for (int rounds = 0; rounds < MAX_ROUNDS_PER_CALL; rounds++) {
      if (state.isStuck() && !resumeAfterHang()) {
        return;
      }
      if (!state.takeRoundRequest() && nowNs < nextRoundNs) {
        return;
      }
      DriverMode m = state.beginRound();
      if (m == null) {
        return;
      }
      runRound(m);
      nextRoundNs = nowNs + waitNanos;
    }
  }

  /** Driven, hung: whether the hang is over, in which case the inflation it hung in went on. */
  private boolean resumeAfterHang() {
    if (modes.stillHung()) {
      return false;
    }
    Session s = state.session();
    try {
      if (s != null) {
        inflation.inflate(s);
      } else {
        inflation.releaseHeld();
      }
    } catch (BalloonHostException e) {
      onHostError(e);
    }
    return true;
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
    Thread t = state.requestStop(deflate);
    if (driven) {
      // No worker to wait for: the caller finishes, once.
      if (state.isStarted() && !finished) {
        finished = true;
        finish();
      }
      return;
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
    state.setMode(Objects.requireNonNull(request, "request"));
  }

  /** Pages in the balloon now. */
  public long size() {
    return state.size();
  }

  public DriverStats stats() {
    return state.snapshot();
  }

  /** For tests: how the driver pauses between retries of a call (as its host says otherwise). */
  void pauseRetriesWith(java.util.function.LongConsumer pause) {
    calls.pauseWith(pause);
  }

  /** For tests: whether the calling thread holds the driver's lock (it must not when it calls out). */
  boolean holdsLock() {
    return state.holdsLock();
  }

  // ---------------------------------------------------------------------------------------------- the worker

  private void runWorker() {
    log.debug("balloon driver of {} started in mode {}", config.vmName(), config.initialMode());
    DriverMode m;
    while ((m = state.beginRound()) != null) {
      runRound(m);
      state.awaitNextRound(waitNanos);
    }
    finish();
    log.debug("balloon driver of {} stopped", config.vmName());
  }

  /** One round in either mode, its failures counted; leaves in {@link #waitNanos} when the next one is due. */
  private void runRound(DriverMode m) {
    waitNanos = pollNanos;
    try {
      round(m);
    } catch (BalloonHostException e) {
      onHostError(e);
    } catch (RuntimeException e) {
      log.error("balloon round of {} failed", config.vmName(), e);
    }
  }

  /** One round, in the order of the class comment and of vmw_balloon's worker: each step may end it early. */
  private void round(DriverMode m) {
    if (m.kind() == Kind.UNINSTALLED) {
      uninstalledRound();
      return;
    }
    long late = modes.lateNanosLeft(m);
    if (late > 0) {
      waitAtMost(late);
      return;
    }
    Session s = handleReset(ensureSession());
    if (!getTarget(s, m)) {
      return;
    }
    waitAtMost(inflation.inflate(s));
    if (state.isStuck()) {
      // A driven driver hung mid-inflation: the round ends there.
      return;
    }
    deflation.deflate(s, false);
    if (state.isResetPending()) {
      state.requestRound();
      return;
    }
    reportStats(s);
  }

  /** Uninstalled: give every page back (telling the hypervisor), then close the session and stay silent. */
  private void uninstalledRound() {
    if (state.isResetPending()) {
      // The hypervisor forgot the balloon: there is nothing to tell it.
      resetBalloon();
    } else if (state.size() > 0 || inflation.hasUnknown()) {
      Session s = ensureSession();
      inflation.resolveUnknown(s);
      if (state.size() > 0) {
        deflation.deflate(s, true);
      }
    }
    if (state.size() == 0 && !inflation.hasUnknown()) {
      closeSession();
    }
  }

  private Session ensureSession() {
    Session s = state.session();
    if (s != null) {
      return s;
    }
    s = host.start();
    boolean drop = state.openSession(s);
    log.debug("balloon session {} of {}: batch {}, doorbell {}, stats {}", s.id(), config.vmName(),
        s.maxBatchPages(), s.doorbell(), s.stats());
    if (drop) {
      dropBalloon();
    }
    if (s.doorbell() && !driven) {
      try {
        doorbell = host.listenDoorbell(s.id(), state::ring);
      } catch (BalloonHostException e) {
        // Polling still works; the next session tries again.
        hostErrors.count(e, "listening to the doorbell");
      }
    }
    return s;
  }

  /** Reset: when a reply said RESET, start over from an empty balloon in a new session. */
  private Session handleReset(Session s) {
    if (!state.isResetPending()) {
      return s;
    }
    resetBalloon();
    return ensureSession();
  }

  /**
   * Target: {@code GetTarget}, reporting the size, against the cap of this round.
   *
   * @return false when the reply brought a reset or another mode, and the next round must start at once
   */
  private boolean getTarget(Session s, DriverMode m) {
    long capPages = (long) Math.floor(config.capFraction() * kernel.totalPages());
    Target t = host.getTarget(s.id(), state.beforeGetTarget());
    hostErrors.clear();
    return state.acceptTarget(t, capPages, m);
  }

  /** Stats: the kernel's memory statistics, if the session granted them. */
  private void reportStats(Session s) {
    if (!s.stats() || state.isStopping()) {
      return;
    }
    Target r = host.reportStats(s.id(), kernel.stats());
    counters.statsReports.increment();
    state.acceptReply(r);
  }

  private void closeSession() {
    AutoCloseable bell = doorbell;
    doorbell = null;
    state.closeSession();
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
    int[] pages = state.takeAllForReset();
    log.info("balloon of {} reset: {} pages returned to the guest without unlocking", config.vmName(),
        pages.length);
    if (pages.length > 0) {
      kernel.freePages(pages, pages.length);
    }
  }

  /** Wakes the worker no later than {@code nanos} from now (at least a millisecond, so it never spins). */
  private void waitAtMost(long nanos) {
    waitNanos = Math.min(waitNanos, Math.max(nanos, MIN_WAIT_NANOS));
  }

  /**
   * The last act: a batch held by a hang goes back to the kernel, the balloon deflates if asked, the session
   * closes (the doorbell with it).
   */
  private void finish() {
    boolean deflate = state.deflateOnStop();
    if (state.isStuck()) {
      modes.leaveHang();
    }
    inflation.releaseHeld();
    try {
      if (deflate && state.isResetPending()) {
        resetBalloon();
      }
      if (inflation.hasUnknown()) {
        // Before any page goes back: the hypervisor says what it holds of the pages whose lock went unanswered.
        inflation.resolveUnknown(ensureSession());
      }
      if (deflate && state.size() > 0) {
        deflation.deflate(ensureSession(), true);
      }
    } catch (BalloonHostException e) {
      hostErrors.count(e, "deflating before stopping");
      log.warn("balloon of {} could not deflate before stopping; {} pages stay", config.vmName(), state.size());
    } catch (RuntimeException e) {
      log.error("balloon of {} failed while stopping", config.vmName(), e);
    } finally {
      closeSession();
    }
  }

  private void onHostError(BalloonHostException e) {
    int inARow = hostErrors.count(e, "round");
    if (e.kind() == BalloonHostException.Kind.STALE_SESSION) {
      // The pages stay in the balloon: a new session takes them over. Retry at once, but only once in a row.
      closeSession();
      if (inARow == 1) {
        state.requestRound();
      }
    }
  }
}
