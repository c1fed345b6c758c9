package org.balloonlab.balloon.driver;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.function.DoubleSupplier;
import org.awaitility.core.ConditionFactory;
import org.balloonlab.balloon.driver.BalloonDriver.Config;
import org.balloonlab.balloon.driver.FakeHost.Call;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.DriverMode.Kind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The balloon worker against a fake kernel and a fake hypervisor: no transport, no sleeps. */
class BalloonDriverTest {
  static final int PAGES = 10_000;
  static final Duration FAST = Duration.ofMillis(2);
  static final Duration NEVER = Duration.ofHours(1);

  FakeKernel kernel;
  FakeHost host;
  FakeClock clock;
  BalloonDriver driver;
  final List<String> lockViolations = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void setUp() {
    kernel = new FakeKernel(PAGES);
    host = new FakeHost(PAGES);
    clock = new FakeClock();
  }

  @AfterEach
  void tearDown() {
    if (driver != null) {
      driver.stop();
    }
    assertEquals(List.of(), kernel.violations(), "the kernel saw pages freed that the balloon did not hold");
    assertEquals(List.of(), lockViolations, "the driver called out while holding its lock");
  }

  Config fast() {
    return Config.defaults("vm1").withPollInterval(FAST);
  }

  Config slowPoll() {
    return Config.defaults("vm1").withPollInterval(NEVER);
  }

  BalloonDriver start(Config config) {
    return start(config, () -> 0.99);
  }

  BalloonDriver start(Config config, DoubleSupplier random) {
    driver = new BalloonDriver(kernel, host, config, clock, random);
    // No wall-clock pauses between retries in tests.
    driver.pauseRetriesWith(nanos -> { });
    watchLock(driver, kernel, host, lockViolations);
    driver.start();
    return driver;
  }

  /** Makes every call the driver makes to the kernel or the host note the thread if it holds the driver's lock. */
  static void watchLock(BalloonDriver d, FakeKernel kernel, FakeHost host, List<String> violations) {
    Runnable check = () -> {
      if (d.holdsLock()) {
        violations.add(Thread.currentThread().getName());
      }
    };
    kernel.onCall(check);
    host.onCall(check);
  }

  static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(2)).pollDelay(Duration.ZERO);
  }

  /** Waits until the worker has begun {@code more} further rounds, so at least {@code more - 1} completed. */
  void awaitRounds(int more) {
    long from = driver.stats().rounds();
    eventually().until(() -> driver.stats().rounds() >= from + more);
  }

  /** Balloon, hypervisor and kernel agree: every balloon page is locked and pinned, and no other. */
  void assertConsistent() {
    long size = driver.size();
    assertEquals(size, host.lockedCount(), "pages locked at the hypervisor");
    assertEquals(size, kernel.pinnedCount(), "pages the kernel gave the balloon");
  }

  static DriverMode mode(Kind m) {
    return DriverMode.of(m);
  }

  // ------------------------------------------------------------------------------------------ inflation

  @Test
  void inflatesToTheTargetExactlyInBatches() {
    host.setTarget(3000);
    start(fast());

    eventually().until(() -> driver.size() == 3000);
    eventually().untilAsserted(this::assertConsistent);
    awaitRounds(3);
    assertEquals(3000, driver.size());
    for (int[] request : host.lockRequests()) {
      assertTrue(request.length <= 512, "batch of " + request.length);
    }
    DriverStats s = driver.stats();
    assertEquals(3000, s.pagesLocked());
    assertEquals(3000, s.targetPages());
    assertEquals(6500, s.capPages());
    assertTrue(s.connected());
    assertTrue(s.inflations() >= 1);
    assertEquals(0, s.pagesUnlocked());
    eventually().until(() -> host.lastReportedSize() == 3000);
    assertNotNull(host.lastStats());
    assertEquals(PAGES, host.lastStats().totalPages());
    assertTrue(driver.stats().statsReports() >= 1);
  }

  @Test
  void deflatesWhenTheTargetFalls() {
    host.setTarget(3000);
    start(fast());
    eventually().until(() -> driver.size() == 3000);

    host.setTarget(1000);

    eventually().until(() -> driver.size() == 1000);
    eventually().untilAsserted(this::assertConsistent);
    assertEquals(PAGES - 1000, kernel.freeCount());
    DriverStats s = driver.stats();
    assertEquals(2000, s.pagesUnlocked());
    assertTrue(s.deflations() >= 1);
  }

  @Test
  void refusedPagesAreHeldUntilTheInflationEndsThenFreed() {
    host.refuseNext(10);
    host.setTarget(600);
    start(fast().withBatchPages(64));

    eventually().until(() -> driver.size() == 600);
    eventually().untilAsserted(this::assertConsistent);
    int[] refused = host.everRefused();
    assertEquals(10, refused.length);
    assertEquals(10, driver.stats().pagesRefused());
    for (int pfn : refused) {
      assertFalse(host.isLocked(pfn), "refused page " + pfn + " locked");
      assertFalse(kernel.isPinned(pfn), "refused page " + pfn + " not freed");
      // The kernel hands the last freed page out first: a refused page freed before the inflation ended
      // would have been offered again in the same round.
      long offers = host.lockRequests().stream()
          .flatMapToInt(Arrays::stream).filter(p -> p == pfn).count();
      assertEquals(1, offers, "refused page " + pfn + " offered again");
    }
  }

  @Test
  void backsOffAfterSixteenRefusals() {
    host.grant(true, false, true);
    host.refuseAll(true);
    host.setTarget(1000);
    start(slowPoll().withBatchPages(4));

    // One round only (an hour's poll, no doorbell): it reports stats last.
    eventually().until(() -> host.calls(Call.STATS) == 1);
    DriverStats s = driver.stats();
    assertEquals(1, s.rounds());
    assertEquals(1, s.refusalBackoffs());
    assertEquals(16, s.pagesRefused());
    assertEquals(16, host.pagesOffered());
    assertEquals(4, host.calls(Call.LOCK));
    assertEquals(0, driver.size());
    assertEquals(0, kernel.pinnedCount(), "refused pages go back to the kernel after the inflation");
  }

  @Test
  void pagesTheHypervisorRejectsGoBackToTheKernel() {
    // The hypervisor knows only 3000 PFNs; the kernel's others are INVALID to it. One page is already locked.
    host = new FakeHost(3000);
    host.preLock(0);
    host.setTarget(4000);
    start(fast());

    eventually().until(() -> driver.stats().refusalBackoffs() >= 2 && driver.size() == 2999);
    driver.stop();

    assertEquals(2999, kernel.pinnedCount());
    assertTrue(driver.stats().pagesRejected() >= 17);
    assertTrue(kernel.isPinned(1));
    assertFalse(kernel.isPinned(0), "the page the hypervisor had locked already went back");
    assertEquals(3000, host.lockedCount());
  }

  @Test
  void capsTheBalloonAtSixtyFivePercentOfGuestMemory() {
    kernel = new FakeKernel(1000);
    host = new FakeHost(1000);
    host.setTarget(900);
    start(fast());

    eventually().until(() -> driver.size() == 650);
    awaitRounds(3);
    assertEquals(650, driver.size());
    assertEquals(650, driver.stats().capPages());
    eventually().untilAsserted(this::assertConsistent);
  }

  @Test
  void aSmallerCapFractionCapsSooner() {
    host.setTarget(9000);
    start(fast().withCapFraction(0.1));

    eventually().until(() -> driver.size() == 1000);
    eventually().untilAsserted(this::assertConsistent);
  }

  @Test
  void countsAllocationFailuresAndRetriesNextRound() {
    kernel.setEmpty(true);
    host.setTarget(500);
    start(fast());

    eventually().until(() -> driver.stats().allocationFailures() >= 3);
    assertEquals(0, driver.size());
    assertEquals(0, host.calls(Call.LOCK));

    kernel.setEmpty(false);
    eventually().until(() -> driver.size() == 500);
    eventually().untilAsserted(this::assertConsistent);
  }

  @Test
  void takesWhatTheKernelCanGivePerCall() {
    kernel.setPerCallLimit(7);
    host.setTarget(100);
    start(fast());

    eventually().until(() -> driver.size() == 100);
    for (int[] request : host.lockRequests()) {
      assertTrue(request.length <= 7);
    }
  }

  @Test
  void locksOnePagePerCallWithoutBatching() {
    host.grant(false, true, true);
    host.setTarget(20);
    start(fast());

    eventually().until(() -> driver.size() == 20);
    assertEquals(20, host.calls(Call.LOCK));
    host.setTarget(5);
    eventually().until(() -> driver.size() == 5);
    assertEquals(15, host.calls(Call.UNLOCK));
  }

  @Test
  void usesTheSmallerOfItsBatchAndTheSessionsLimit() {
    host.setMaxBatch(100);
    host.setTarget(1000);
    start(fast());

    eventually().until(() -> driver.size() == 1000);
    assertEquals(10, host.calls(Call.LOCK));
  }

  // ---------------------------------------------------------------------------------------------- reset

  @Test
  void resetFreesEveryPageWithoutUnlockingAndStartsANewSession() {
    host.setTarget(2000);
    start(slowPoll());
    eventually().until(() -> driver.size() == 2000);
    long session = driver.stats().sessionId();

    host.forceReset();

    eventually().until(() -> driver.stats().resets() == 1);
    eventually().until(() -> driver.size() == 2000);
    eventually().untilAsserted(this::assertConsistent);
    DriverStats s = driver.stats();
    assertEquals(0, host.calls(Call.UNLOCK), "a reset tells the hypervisor nothing");
    assertEquals(2000, s.resetPages());
    assertEquals(2, host.calls(Call.START));
    assertEquals(2, s.sessionsStarted());
    assertTrue(s.sessionId() != session);
    assertEquals(4000, s.pagesLocked());
  }

  // ------------------------------------------------------------------------------------- deflate-on-OOM

  @Test
  void deflateOnOomUnlocksAtTheHypervisorAndHandsPagesToTheKernel() {
    host.setTarget(1000);
    start(slowPoll());
    eventually().until(() -> driver.size() == 1000);
    eventually().until(() -> host.calls(Call.STATS) == 1);
    long freeCalls = kernel.freeCalls();

    int[] released = kernel.triggerOom(100);

    assertEquals(100, released.length);
    assertEquals(900, driver.size());
    assertEquals(900, host.lockedCount());
    assertEquals(900, kernel.pinnedCount());
    assertEquals(freeCalls, kernel.freeCalls(), "the kernel frees OOM pages itself");
    assertTrue(host.calls(Call.UNLOCK) >= 1);
    for (int pfn : released) {
      assertFalse(host.isLocked(pfn));
      assertFalse(kernel.isPinned(pfn));
    }
    DriverStats s = driver.stats();
    assertEquals(1, s.oomDeflations());
    assertEquals(100, s.oomPages());
    assertEquals(0, s.oomUntold());
    assertEquals(100, s.pagesUnlocked());
  }

  @Test
  void deflateOnOomGivesPagesEvenWhenTheHypervisorFails() {
    host.setTarget(300);
    start(slowPoll());
    eventually().until(() -> driver.size() == 300);
    eventually().until(() -> host.calls(Call.STATS) == 1);
    host.failNext(Call.UNLOCK, 1, BalloonHostException.Kind.UNAVAILABLE);

    int[] released = kernel.triggerOom(50);

    assertEquals(50, released.length);
    assertEquals(250, driver.size());
    DriverStats s = driver.stats();
    assertEquals(50, s.oomUntold());
    assertEquals(1, s.hostErrors());
  }

  @Test
  void deflateOnOomWithAnEmptyBalloonGivesNothing() {
    start(slowPoll());
    eventually().until(kernel::hasNotifier);

    assertEquals(0, kernel.triggerOom(10).length);
    assertEquals(0, driver.stats().oomDeflations());
  }

  @Test
  void anOomDuringAnInflationEndsIt() {
    // The third allocation of the round runs out of memory, from inside the driver's own call.
    kernel.oomDuringAllocation(3, 100);
    host.grant(true, false, true);
    host.setTarget(2000);
    start(slowPoll());

    eventually().until(() -> host.calls(Call.STATS) == 1);
    DriverStats s = driver.stats();
    assertEquals(1, s.rounds());
    assertEquals(100, s.oomPages());
    assertEquals(512 + 512 - 100 + 512, s.sizePages(), "the batch in hand is locked, then the inflation stops");
    assertEquals(3, host.calls(Call.LOCK));
    assertConsistent();
  }

  @Test
  void oomReleasesRacingTheWorkerKeepEveryoneConsistent() throws Exception {
    host.setTarget(4000);
    start(fast().withBatchPages(64));
    eventually().until(() -> driver.size() == 4000);
    Thread cpu = new Thread(() -> {
      for (int i = 0; i < 300; i++) {
        kernel.triggerOom(13);
        if (i % 50 == 0) {
          host.setTarget(i % 100 == 0 ? 1000 : 4000);
        }
      }
    }, "guest-cpu");
    cpu.start();
    cpu.join(10_000);
    assertFalse(cpu.isAlive());
    host.setTarget(2500);

    eventually().until(() -> driver.size() == 2500);
    eventually().untilAsserted(this::assertConsistent);
    assertTrue(driver.stats().oomPages() > 0);
  }

  // ---------------------------------------------------------------------------------------------- modes

  @Nested
  class Modes {
    @Test
    void disabledPollsButNeverInflates() {
      host.setTarget(500);
      start(fast().withInitialMode(mode(Kind.DISABLED)));

      awaitRounds(5);
      assertEquals(0, driver.size());
      assertEquals(0, host.calls(Call.LOCK));
      assertTrue(host.calls(Call.GET_TARGET) >= 3);
      assertTrue(driver.stats().connected());
    }

    @Test
    void disabledStillDeflatesWhenTheTargetFalls() {
      host.setTarget(1000);
      start(fast());
      eventually().until(() -> driver.size() == 1000);

      driver.setMode(mode(Kind.DISABLED));
      host.setTarget(400);
      eventually().until(() -> driver.size() == 400);
      long locks = host.calls(Call.LOCK);
      host.setTarget(2000);
      awaitRounds(5);

      assertEquals(400, driver.size());
      assertEquals(locks, host.calls(Call.LOCK));
      eventually().untilAsserted(BalloonDriverTest.this::assertConsistent);
    }

    @Test
    void uninstalledNeverConnects() {
      host.setTarget(500);
      start(fast().withInitialMode(mode(Kind.UNINSTALLED)));

      awaitRounds(5);
      assertEquals(0, host.calls(Call.START));
      assertEquals(0, host.totalCalls());
      assertFalse(driver.stats().connected());
    }

    @Test
    void uninstalledAtRunTimeDeflatesTellingTheHypervisorThenFallsSilent() {
      host.setTarget(1000);
      start(fast());
      eventually().until(() -> driver.size() == 1000);

      driver.setMode(mode(Kind.UNINSTALLED));

      eventually().until(() -> driver.size() == 0 && !driver.stats().connected());
      assertEquals(0, host.lockedCount(), "every page was unlocked at the hypervisor");
      assertEquals(0, kernel.pinnedCount());
      assertEquals(0, host.openDoorbells());
      long calls = host.totalCalls();
      host.setTarget(800);
      awaitRounds(5);
      assertEquals(calls, host.totalCalls());

      driver.setMode(mode(Kind.ENABLED));
      eventually().until(() -> driver.size() == 800);
      assertEquals(2, host.calls(Call.START));
    }

    @Test
    void lateStaysUnavailableUntilItsDelayHasPassed() {
      host.setTarget(500);
      start(fast().withInitialMode(new DriverMode(Kind.LATE, 60_000, 0, 0)));

      awaitRounds(5);
      assertEquals(0, host.totalCalls());
      clock.advance(Duration.ofSeconds(59));
      awaitRounds(5);
      assertEquals(0, host.totalCalls());

      clock.advance(Duration.ofSeconds(1));
      eventually().until(() -> driver.size() == 500);
      assertEquals(1, host.calls(Call.START));
    }

    @Test
    void slowInflatesNoFasterThanItsRate() {
      host.setTarget(1000);
      start(fast().withInitialMode(new DriverMode(Kind.SLOW, 0, 100, 0)));

      awaitRounds(3);
      assertEquals(0, driver.size(), "the bucket starts empty");
      clock.advance(Duration.ofSeconds(1));
      eventually().until(() -> driver.size() == 100);
      awaitRounds(5);
      assertEquals(100, driver.size());

      clock.advance(Duration.ofMillis(500));
      awaitRounds(5);
      assertEquals(100, driver.size(), "half a second buys half a batch: it waits for a whole one");
      clock.advance(Duration.ofMillis(500));
      eventually().until(() -> driver.size() == 200);

      // Idle credit is capped at one second's worth.
      clock.advance(Duration.ofSeconds(10));
      eventually().until(() -> driver.size() == 300);
      awaitRounds(5);
      assertEquals(300, driver.size());
      for (int[] request : host.lockRequests()) {
        assertEquals(100, request.length);
      }
      assertEquals(3, host.calls(Call.LOCK));
    }

    @Test
    void slowDoesNotLimitDeflation() {
      host.setTarget(1000);
      start(fast());
      eventually().until(() -> driver.size() == 1000);
      driver.setMode(new DriverMode(Kind.SLOW, 0, 10, 0));

      host.setTarget(0);
      eventually().until(() -> driver.size() == 0);
    }

    @Test
    void stuckHangsInTheMiddleOfAnInflationUntilSwitchedAway() {
      host.setTarget(500);
      start(slowPoll());
      eventually().until(() -> driver.size() == 500 && host.calls(Call.STATS) == 1);
      driver.setMode(DriverMode.of(Kind.STUCK));
      eventually().until(() -> host.calls(Call.STATS) == 2);

      host.setTarget(1500);

      eventually().until(() -> driver.stats().stuck());
      long calls = host.totalCalls();
      assertEquals(500, driver.size());
      assertEquals(500 + 512, kernel.pinnedCount(), "a batch allocated and not locked");
      await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2))
          .until(() -> host.totalCalls() == calls && driver.stats().stuck());

      driver.setMode(mode(Kind.ENABLED));

      eventually().until(() -> driver.size() == 1500);
      assertFalse(driver.stats().stuck());
      assertEquals(1, driver.stats().stuckEpisodes());
      eventually().untilAsserted(BalloonDriverTest.this::assertConsistent);
    }

    @Test
    void stuckByTheHypervisorIsLiftedThroughTheDoorbell() {
      host.setTarget(200);
      start(slowPoll());
      eventually().until(() -> driver.size() == 200 && host.calls(Call.STATS) == 1);

      host.update(1000, DriverMode.of(Kind.STUCK));

      eventually().until(() -> driver.stats().stuck());
      assertEquals(Kind.STUCK, driver.stats().mode().kind());
      long calls = host.totalCalls();
      await().during(Duration.ofMillis(100)).atMost(Duration.ofSeconds(2))
          .until(() -> host.totalCalls() == calls);

      host.requestMode(mode(Kind.ENABLED));

      eventually().until(() -> driver.size() == 1000);
      assertEquals(Kind.ENABLED, driver.stats().mode().kind());
      assertEquals(1, driver.stats().stuckEpisodes());
      eventually().untilAsserted(BalloonDriverTest.this::assertConsistent);
    }

    @Test
    void stuckWithAProbabilityHangsAtTheBatchTheDiceChoose() {
      Deque<Double> dice = new ArrayDeque<>(List.of(0.9, 0.6, 0.1));
      host.setTarget(1000);
      start(fast().withBatchPages(100).withInitialMode(new DriverMode(Kind.STUCK, 0, 0, 0.5)),
          () -> dice.isEmpty() ? 0.9 : dice.poll());

      eventually().until(() -> driver.stats().stuck());
      assertEquals(200, driver.size());
      assertEquals(300, kernel.pinnedCount());

      driver.setMode(mode(Kind.ENABLED));
      eventually().until(() -> driver.size() == 1000);
      eventually().untilAsserted(BalloonDriverTest.this::assertConsistent);
    }

    @Test
    void stuckAndSwitchedToDisabledGivesTheBatchBack() {
      host.setTarget(300);
      start(fast().withInitialMode(DriverMode.of(Kind.STUCK)));
      eventually().until(() -> driver.stats().stuck());
      assertEquals(300, kernel.pinnedCount());

      driver.setMode(mode(Kind.DISABLED));

      eventually().until(() -> !driver.stats().stuck() && kernel.pinnedCount() == 0);
      assertEquals(0, driver.size());
    }

    @Test
    void aRequestedModeIsAdoptedOnceAndALocalSwitchSticks() {
      host.setTarget(100);
      start(fast());
      eventually().until(() -> driver.size() == 100);

      host.requestMode(mode(Kind.DISABLED));
      eventually().until(() -> driver.stats().mode().kind() == Kind.DISABLED);
      driver.setMode(mode(Kind.ENABLED));
      awaitRounds(5);

      assertEquals(Kind.ENABLED, driver.stats().mode().kind());
      assertEquals(2, driver.stats().modeSwitches());
    }
  }

  // -------------------------------------------------------------------------------- doorbell and errors

  @Test
  void theDoorbellWakesTheDriverLongBeforeItsNextPoll() {
    start(slowPoll());
    eventually().until(() -> host.calls(Call.STATS) == 1);

    host.setTarget(800);

    eventually().until(() -> driver.size() == 800);
    assertTrue(driver.stats().doorbellRings() >= 2);
    assertEquals(1, host.openDoorbells());
  }

  @Test
  void hostErrorsAreCountedAndRetried() {
    host.failNext(Call.GET_TARGET, 3, BalloonHostException.Kind.UNAVAILABLE);
    host.setTarget(700);
    start(fast());

    eventually().until(() -> driver.size() == 700);
    assertEquals(3, driver.stats().hostErrors());
    assertEquals(1, host.calls(Call.START));
  }

  @Test
  void aDeniedStartIsRetried() {
    host.failNext(Call.START, 2, BalloonHostException.Kind.DENIED);
    host.setTarget(50);
    start(fast());

    eventually().until(() -> driver.size() == 50);
    assertEquals(3, host.calls(Call.START));
    assertEquals(2, driver.stats().hostErrors());
  }

  @Test
  void aFailedLockGivesTheBatchBackToTheKernel() {
    // Refused as a whole, so surely not applied (an unanswered one is retried: LostAnswerTest).
    host.failNext(Call.LOCK, 1, BalloonHostException.Kind.DENIED);
    host.setTarget(1000);
    start(slowPoll());

    eventually().until(() -> driver.stats().hostErrors() == 1);
    eventually().until(() -> kernel.pinnedCount() == driver.size());
    host.setTarget(999);
    eventually().until(() -> driver.size() == 999);
    eventually().untilAsserted(this::assertConsistent);
  }

  @Test
  void aFailedUnlockKeepsThePagesInTheBalloon() {
    host.setTarget(600);
    start(fast());
    eventually().until(() -> driver.size() == 600);
    host.failNext(Call.UNLOCK, 2, BalloonHostException.Kind.DENIED);

    host.setTarget(100);

    eventually().until(() -> driver.size() == 100);
    eventually().untilAsserted(this::assertConsistent);
    assertEquals(2, driver.stats().hostErrors());
  }

  @Test
  void aStaleSessionIsReplacedAndThePagesKept() {
    host.setTarget(700);
    start(fast());
    eventually().until(() -> driver.size() == 700);

    host.invalidateSession();

    eventually().until(() -> driver.stats().sessionsStarted() == 2);
    assertEquals(0, driver.stats().resets());
    host.setTarget(300);
    eventually().until(() -> driver.size() == 300);
    eventually().untilAsserted(this::assertConsistent);
    assertTrue(driver.stats().hostErrors() >= 1);
  }

  // ------------------------------------------------------------------------------------------ lifecycle

  @Test
  void stopLeavesTheBalloonAsItIs() {
    host.setTarget(500);
    start(fast());
    eventually().until(() -> driver.size() == 500);

    driver.stop();

    long calls = host.totalCalls();
    assertEquals(500, driver.size());
    assertEquals(500, host.lockedCount());
    assertEquals(0, host.openDoorbells());
    host.setTarget(0);
    assertEquals(calls, host.totalCalls());
  }

  @Test
  void stopCanDeflateFirst() {
    host.setTarget(500);
    start(fast());
    eventually().until(() -> driver.size() == 500);

    driver.stop(true);

    assertEquals(0, driver.size());
    assertEquals(0, host.lockedCount());
    assertEquals(0, kernel.pinnedCount());
  }

  @Test
  void stopReleasesAStuckDriver() {
    host.setTarget(300);
    start(fast().withInitialMode(DriverMode.of(Kind.STUCK)));
    eventually().until(() -> driver.stats().stuck());

    driver.stop();

    assertEquals(0, kernel.pinnedCount());
  }

  @Test
  void startsOnce() {
    start(slowPoll());
    assertThrows(IllegalStateException.class, driver::start);
  }

  @Test
  void theWorkerIsADaemonNamedAfterTheVm() {
    start(slowPoll());
    eventually().until(() -> Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals("balloon-vm1") && t.isDaemon()));
  }

  @Test
  void configRejectsNonsense() {
    Config d = Config.defaults("vm");
    assertThrows(IllegalArgumentException.class, () -> d.withBatchPages(0));
    assertThrows(IllegalArgumentException.class, () -> d.withCapFraction(1.5));
    assertThrows(IllegalArgumentException.class,
        () -> new Config(d.pollInterval(), d.batchPages(), d.capFraction(), 0, d.initialMode(), d.vmName()));
    assertThrows(IllegalArgumentException.class, () -> d.withPollInterval(Duration.ZERO));
    assertEquals(Duration.ofSeconds(1), d.pollInterval());
    assertEquals(512, d.batchPages());
    assertEquals(0.65, d.capFraction());
    assertEquals(16, d.maxRefusals());
    assertEquals(Kind.ENABLED, d.initialMode().kind());
  }

  @Test
  void pfnListGrowsAndGivesBackFromTheEnd() {
    PfnList list = new PfnList(2);
    for (int i = 0; i < 10; i++) {
      list.add(i);
    }
    list.addAll(new int[] {10, 11, 12}, 2);
    assertEquals(12, list.size());
    int[] out = new int[5];
    assertEquals(5, list.removeLast(out, 5));
    assertArrayEquals(new int[] {7, 8, 9, 10, 11}, out);
    assertEquals(7, list.removeLast(new int[20], 20));
    assertTrue(list.isEmpty());
  }
}
