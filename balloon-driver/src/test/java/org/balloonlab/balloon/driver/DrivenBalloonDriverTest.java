package org.balloonlab.balloon.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.DoubleSupplier;
import org.balloonlab.balloon.driver.BalloonDriver.Config;
import org.balloonlab.balloon.driver.FakeHost.Call;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.DriverMode.Kind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The driver driven by the guest's vCPU on simulated time: every round runs inside {@link BalloonDriver#runDue} on
 * the test's thread, so there is nothing to wait for and no wall clock anywhere.
 */
class DrivenBalloonDriverTest {
  static final int PAGES = 10_000;
  static final long S = Duration.ofSeconds(1).toNanos();

  FakeKernel kernel;
  FakeHost host;
  BalloonDriver driver;
  final List<String> lockViolations = new ArrayList<>();

  @BeforeEach
  void setUp() {
    kernel = new FakeKernel(PAGES);
    host = new FakeHost(PAGES);
  }

  @AfterEach
  void tearDown() {
    if (driver != null) {
      driver.stop();
    }
    assertEquals(List.of(), kernel.violations(), "the kernel saw pages freed that the balloon did not hold");
    assertEquals(List.of(), lockViolations, "the driver called out while holding its lock");
    assertEquals(0, host.calls(Call.DOORBELL), "a driven driver never opens the doorbell stream");
  }

  BalloonDriver start(Config config) {
    return start(config, () -> 0.99);
  }

  BalloonDriver start(Config config, DoubleSupplier random) {
    driver = BalloonDriver.driven(kernel, host, config, random);
    BalloonDriverTest.watchLock(driver, kernel, host, lockViolations);
    driver.start();
    return driver;
  }

  static Config config() {
    return Config.defaults("vm1");
  }

  void assertConsistent() {
    assertEquals(driver.size(), host.lockedCount(), "pages locked at the hypervisor");
    assertEquals(driver.size(), kernel.pinnedCount(), "pages the kernel gave the balloon");
  }

  @Test
  void roundsRunAtTheSimulatedPollTimesAndNowhereElse() {
    host.setTarget(1000);
    start(config());
    assertEquals(0, host.totalCalls(), "nothing before the first quantum");

    driver.runDue(0, false);
    assertEquals(1000, driver.size(), "the first call boots the driver and runs a round");
    assertEquals(1, driver.stats().rounds());
    assertEquals(1, host.calls(Call.GET_TARGET));

    driver.runDue(S / 2, false);
    driver.runDue(S - 1, false);
    assertEquals(1, driver.stats().rounds(), "the poll interval has not passed");

    driver.runDue(S, false);
    assertEquals(2, driver.stats().rounds());
    driver.runDue(S + S / 5, false);
    driver.runDue(5 * S / 2, false);
    assertEquals(3, driver.stats().rounds(), "a round at 2.5 s; the next is due at 3.5 s");
    driver.runDue(7 * S / 2 - 1, false);
    assertEquals(3, driver.stats().rounds());
    driver.runDue(7 * S / 2, false);
    assertEquals(4, driver.stats().rounds());
    assertEquals(4, host.calls(Call.GET_TARGET));
    assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("balloon-vm1")),
        "no worker thread");
    assertConsistent();
  }

  @Test
  void theDoorbellRunsARoundBeforeThePollIntervalHasPassed() {
    start(config());
    driver.runDue(0, false);
    host.setTarget(3000);

    driver.runDue(S / 10, false);
    assertEquals(0, driver.size(), "without the doorbell it waits for its poll");

    driver.runDue(S / 5, true);
    assertEquals(3000, driver.size());
    assertEquals(1, driver.stats().doorbellRings());
    assertEquals(2, driver.stats().rounds());
    assertConsistent();
  }

  @Test
  void aResetIsHandledInTheSameCallThatLearnsOfIt() {
    host.setTarget(2000);
    start(config());
    driver.runDue(0, false);
    assertEquals(2000, driver.size());

    host.forceReset();
    driver.runDue(S / 10, true);

    DriverStats s = driver.stats();
    assertEquals(1, s.resets());
    assertEquals(2, s.sessionsStarted());
    assertEquals(2000, driver.size(), "reinflated from scratch in the same call");
    assertTrue(s.rounds() <= 1 + BalloonDriver.MAX_ROUNDS_PER_CALL);
    assertEquals(0, host.calls(Call.UNLOCK));
    assertConsistent();
  }

  @Test
  void lateCountsSimulatedTimeFromTheFirstCall() {
    host.setTarget(500);
    start(config().withInitialMode(DriverMode.parse("late:60s")));

    driver.runDue(5 * S, false);
    driver.runDue(30 * S, true);
    driver.runDue(64 * S, false);
    assertEquals(0, host.totalCalls(), "unavailable for 60 s after boot at 5 s");

    driver.runDue(65 * S, false);
    assertEquals(500, driver.size());
    assertEquals(1, host.calls(Call.START));
  }

  @Test
  void slowFillsItsBucketOnSimulatedTime() {
    host.setTarget(1000);
    start(config().withInitialMode(DriverMode.parse("slow:100")));

    driver.runDue(0, false);
    assertEquals(0, driver.size(), "the bucket starts empty");
    driver.runDue(S, false);
    assertEquals(100, driver.size());
    driver.runDue(3 * S / 2, true);
    assertEquals(100, driver.size(), "half a second buys half a batch: it waits for a whole one");
    driver.runDue(2 * S, false);
    assertEquals(200, driver.size());
    driver.runDue(12 * S, false);
    assertEquals(300, driver.size(), "idle credit is capped at one second's worth");
    for (int[] request : host.lockRequests()) {
      assertEquals(100, request.length);
    }
  }

  @Test
  void stuckReturnsWhereItHangsAndStaysHungUntilTheModeChanges() {
    host.setTarget(500);
    start(config());
    driver.runDue(0, false);
    assertEquals(500, driver.size());
    driver.setMode(DriverMode.of(Kind.STUCK));
    host.setTarget(1500);

    driver.runDue(S / 10, true);

    assertTrue(driver.stats().stuck());
    assertEquals(500, driver.size());
    assertEquals(500 + 512, kernel.pinnedCount(), "a batch allocated and not locked");
    long calls = host.totalCalls();
    long targets = host.calls(Call.GET_TARGET);
    long rounds = driver.stats().rounds();
    driver.runDue(2 * S, false);
    driver.runDue(5 * S, false);
    assertEquals(calls, host.totalCalls(), "hung: no calls");
    assertEquals(rounds, driver.stats().rounds(), "and no rounds");

    driver.runDue(6 * S, true);
    assertEquals(calls + 1, host.totalCalls(), "one call for the doorbell");
    assertEquals(targets + 1, host.calls(Call.GET_TARGET), "a GetTarget");
    assertTrue(driver.stats().stuck());

    host.requestMode(DriverMode.of(Kind.ENABLED));
    driver.runDue(7 * S, true);

    assertFalse(driver.stats().stuck());
    assertEquals(1500, driver.size(), "the held batch locked, the inflation carried on");
    assertEquals(1, driver.stats().stuckEpisodes());
    assertEquals(Kind.ENABLED, driver.stats().mode().kind());
    assertConsistent();
  }

  @Test
  void stuckWithAProbabilityHangsAtTheBatchTheSeededDiceChoose() {
    Deque<Double> dice = new ArrayDeque<>(List.of(0.9, 0.6, 0.1));
    host.setTarget(1000);
    start(config().withBatchPages(100).withInitialMode(DriverMode.parse("stuck:0.5")),
        () -> dice.isEmpty() ? 0.9 : dice.poll());

    driver.runDue(0, false);

    assertTrue(driver.stats().stuck());
    assertEquals(200, driver.size());
    assertEquals(300, kernel.pinnedCount());
  }

  @Test
  void stoppingAHungDriverGivesTheBatchBack() {
    host.setTarget(300);
    start(config().withInitialMode(DriverMode.of(Kind.STUCK)));
    driver.runDue(0, false);
    assertTrue(driver.stats().stuck());
    assertEquals(300, kernel.pinnedCount());

    driver.stop();

    assertEquals(0, kernel.pinnedCount());
    assertFalse(driver.stats().stuck());
    assertEquals(0, driver.size());
  }

  @Test
  void switchedFromStuckToUninstalledItGivesTheBatchBackAndFallsSilent() {
    host.setTarget(300);
    start(config().withInitialMode(DriverMode.of(Kind.STUCK)));
    driver.runDue(0, false);

    driver.setMode(DriverMode.of(Kind.UNINSTALLED));
    driver.runDue(S / 10, false);

    assertFalse(driver.stats().stuck());
    assertEquals(0, kernel.pinnedCount());
    assertFalse(driver.stats().connected());
  }

  @Test
  void deflateOnOomWorksInTheKernelsOwnCall() {
    host.setTarget(1000);
    start(config());
    driver.runDue(0, false);

    int[] released = kernel.triggerOom(100);

    assertEquals(100, released.length);
    assertEquals(900, driver.size());
    assertEquals(100, driver.stats().oomPages());
    assertEquals(0, driver.stats().oomUntold());
    assertConsistent();
  }

  @Test
  void stopCanDeflateFirstOnTheCallersThread() {
    host.setTarget(500);
    start(config());
    driver.runDue(0, false);

    driver.stop(true);
    driver.stop(true);

    assertEquals(0, driver.size());
    assertEquals(0, host.lockedCount());
    assertEquals(0, kernel.pinnedCount());
    driver.runDue(10 * S, true);
    assertEquals(1, driver.stats().rounds(), "a stopped driver runs no round");
  }

  @Test
  void onlyAStartedDrivenDriverIsDrivenAndEitherStartsOnce() {
    BalloonDriver unstarted = BalloonDriver.driven(kernel, host, config(), () -> 0.5);
    assertThrows(IllegalStateException.class, () -> unstarted.runDue(0, false));
    start(config());
    assertThrows(IllegalStateException.class, driver::start);
    BalloonDriver threaded = new BalloonDriver(kernel, host, config(), new FakeClock(), () -> 0.5);
    assertThrows(IllegalStateException.class, () -> threaded.runDue(0, false));
  }
}
