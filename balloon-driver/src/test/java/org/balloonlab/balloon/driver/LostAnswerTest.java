package org.balloonlab.balloon.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.balloonlab.balloon.driver.BalloonDriver.Config;
import org.balloonlab.balloon.driver.FakeHost.Call;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Calls the hypervisor applied but whose answer was lost (a deadline passed): the driver retries the same request
 * and ends with exactly the balloon the hypervisor holds, gives back no page the hypervisor took, and never resets.
 * Driven, so each step is one {@link BalloonDriver#runDue}; the pauses between retries are recorded, not waited.
 */
class LostAnswerTest {
  static final int PAGES = 10_000;
  static final long S = Duration.ofSeconds(1).toNanos();

  FakeKernel kernel;
  FakeHost host;
  BalloonDriver driver;
  final List<Long> pauses = new ArrayList<>();
  final List<String> lockViolations = new ArrayList<>();

  @BeforeEach
  void setUp() {
    kernel = new FakeKernel(PAGES);
    host = new FakeHost(PAGES);
    driver = BalloonDriver.driven(kernel, host, Config.defaults("vm1"), () -> 0.99);
    driver.pauseRetriesWith(pauses::add);
    BalloonDriverTest.watchLock(driver, kernel, host, lockViolations);
    driver.start();
  }

  @AfterEach
  void tearDown() {
    driver.stop();
    assertEquals(List.of(), kernel.violations(), "the kernel saw pages freed that the balloon did not hold");
    assertEquals(List.of(), lockViolations, "the driver called out while holding its lock");
  }

  /** The balloon, the hypervisor and the kernel agree page for page. */
  void assertConsistent() {
    assertEquals(driver.size(), host.lockedCount(), "pages locked at the hypervisor");
    assertEquals(driver.size(), kernel.pinnedCount(), "pages the kernel gave the balloon");
    for (int pfn = 0; pfn < PAGES; pfn++) {
      if (host.isLocked(pfn)) {
        assertTrue(kernel.isPinned(pfn), "PFN " + pfn + " is ballooned at the hypervisor but the guest has it");
      }
    }
  }

  @Test
  void aLockAppliedButUnansweredIsRetriedAndLandsOnce() {
    host.loseNextAnswers(Call.LOCK, 1);
    host.setTarget(1000);

    driver.runDue(0, false);

    DriverStats s = driver.stats();
    assertEquals(1000, driver.size());
    assertEquals(1000, host.lockedCount());
    assertEquals(1000, s.pagesLocked(), "every page counted once");
    assertEquals(1, s.retries());
    assertEquals(1, host.repeatsAnswered(), "the retry was answered from the first call, not applied again");
    assertEquals(0, s.resets());
    assertEquals(0, s.hostErrors());
    assertEquals(0, s.unknownOutcomes());
    assertEquals(List.of(PageCalls.FIRST_PAUSE_NANOS), pauses);
    assertConsistent();
  }

  @Test
  void aLockUnansweredAfterEveryRetryIsPinnedAndAskedAgainBeforeAnyPageGoesBack() {
    host.loseNextAnswers(Call.LOCK, 1 + PageCalls.RETRIES);
    host.setTarget(1000);

    driver.runDue(0, false);

    DriverStats s = driver.stats();
    assertEquals(1, s.unknownOutcomes());
    assertEquals(512, s.unknownPages(), "the batch is pinned: neither balloon nor guest");
    assertEquals(0, driver.size());
    assertEquals(512, host.lockedCount(), "the hypervisor took the first batch");
    assertEquals(512, kernel.pinnedCount(), "and the guest did not get it back");
    assertEquals(List.of(200_000_000L, 400_000_000L, 800_000_000L), pauses, "three pauses, each doubled");

    driver.runDue(S, false);

    s = driver.stats();
    assertEquals(1000, driver.size());
    assertEquals(0, s.unknownPages());
    assertEquals(0, s.resets());
    assertEquals(1000, s.pagesLocked());
    assertConsistent();
  }

  @Test
  void aLockUnansweredThenAStaleSessionIsAskedAgainInTheNewSession() {
    host.loseNextAnswers(Call.LOCK, 1);
    host.failNext(Call.LOCK, PageCalls.RETRIES, BalloonHostException.Kind.UNAVAILABLE);
    host.setTarget(600);

    driver.runDue(0, false);
    assertEquals(512, driver.stats().unknownPages());
    host.invalidateSession();

    driver.runDue(S, false);
    driver.runDue(2 * S, false);

    assertEquals(600, driver.size());
    assertEquals(0, driver.stats().unknownPages());
    assertEquals(0, driver.stats().resets());
    assertTrue(driver.stats().sessionsStarted() >= 2);
    assertConsistent();
  }

  @Test
  void anUnlockAppliedButUnansweredIsRetriedAndLandsOnce() {
    host.setTarget(1000);
    driver.runDue(0, false);
    assertEquals(1000, driver.size());
    host.loseNextAnswers(Call.UNLOCK, 1);
    host.setTarget(200);

    driver.runDue(S, true);

    DriverStats s = driver.stats();
    assertEquals(200, driver.size());
    assertEquals(800, s.pagesUnlocked(), "every page counted once");
    assertEquals(0, s.unlockFailures());
    assertEquals(1, s.retries());
    assertEquals(1, host.repeatsAnswered());
    assertConsistent();
  }

  @Test
  void anUnlockUnansweredAfterEveryRetryKeepsItsPagesInTheBalloonUntilAskedAgain() {
    host.setTarget(1000);
    driver.runDue(0, false);
    host.loseNextAnswers(Call.UNLOCK, 1 + PageCalls.RETRIES);
    host.setTarget(200);

    driver.runDue(S, true);
    assertEquals(1000, driver.size(), "the pages stay in the balloon: the guest gets none of them yet");
    assertEquals(1, driver.stats().hostErrors());

    driver.runDue(2 * S, false);

    assertEquals(200, driver.size());
    assertEquals(0, driver.stats().resets());
    assertConsistent();
  }

  @Test
  void aLockRefusedAsAWholeIsNotRetriedAndGivesTheBatchBack() {
    host.failNext(Call.LOCK, 1, BalloonHostException.Kind.DENIED);
    host.setTarget(1000);

    driver.runDue(0, false);

    assertEquals(0, driver.stats().retries());
    assertEquals(0, driver.stats().unknownPages());
    assertEquals(0, kernel.pinnedCount());
    driver.runDue(S, false);
    assertEquals(1000, driver.size());
    assertConsistent();
  }
}
