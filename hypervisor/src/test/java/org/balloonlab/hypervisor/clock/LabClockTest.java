package org.balloonlab.hypervisor.clock;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LabClockTest {
  private static final long Q = 1_000_000;
  private final List<LabClock> clocks = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();

  @AfterEach
  void tearDown() throws InterruptedException {
    for (Thread t : threads) {
      t.interrupt();
      t.join(5000);
    }
    clocks.forEach(LabClock::close);
  }

  private LabClock clock(BoundaryWork work, long graceNanos) {
    LabClock c = new LabClock(new ClockSettings(Q, 0, graceNanos), work).start();
    clocks.add(c);
    return c;
  }

  /**
   * A fake guest: per quantum it submits {@code opsPerQuantum(q)} operations, pausing a random real time between
   * them (the host's scheduling), then ends the quantum; it stops after {@code quanta} quanta.
   */
  private final class FakeGuest implements ClockMember {
    final int id;
    final BlockingQueue<long[]> grants = new LinkedBlockingQueue<>();
    final List<String> dropped = new CopyOnWriteArrayList<>();

    FakeGuest(int id) {
      this.id = id;
    }

    @Override
    public void grant(long quantum, long startNs, long endNs, boolean doorbell) {
      grants.add(new long[] {quantum, startNs, endNs, doorbell ? 1 : 0});
    }

    @Override
    public void drop(String why) {
      dropped.add(why);
    }

    void run(LabClock clock, List<String> applied, int quanta, SplittableRandom jitter) {
      Thread t = new Thread(() -> {
        try {
          clock.join(id, this);
          for (int i = 0; i < quanta; i++) {
            long[] g = grants.poll(10, TimeUnit.SECONDS);
            if (g == null) {
              return;
            }
            int ops = 1 + (int) ((g[0] * 7 + id * 3) % 4);
            for (int k = 0; k < ops; k++) {
              LockSupport.parkNanos(jitter.nextInt(200_000));
              String name = "q" + g[0] + ":vm" + id + ":" + k + "@" + clock.labTimeNs();
              clock.submit(id, () -> applied.add(name));
            }
            clock.done(id, g[0], g[2], i == quanta - 1, () -> { });
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      threads.add(t);
      t.start();
    }
  }

  private List<String> runLab(long seed) {
    List<String> applied = Collections.synchronizedList(new ArrayList<>());
    LabClock clock = clock(t -> applied.add("boundary@" + t), TimeUnit.SECONDS.toNanos(30));
    ClockHolder holder = t -> { };
    clock.hold(holder, 0);
    SplittableRandom jitter = new SplittableRandom(seed);
    for (int id = 1; id <= 3; id++) {
      new FakeGuest(id).run(clock, applied, 5, jitter.split());
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> clock.state().members() == 3);
    clock.release(holder);
    await().atMost(Duration.ofSeconds(20)).until(() -> clock.state().members() == 0);
    return new ArrayList<>(applied);
  }

  @Test
  void theOrderOfOperationsDependsOnlyOnWhatTheGuestsDoNotOnThreadTiming() {
    List<String> first = runLab(1);
    List<String> second = runLab(99);
    assertEquals(first, second);
    // Round-robin within a quantum: vm1's first op, then vm2's, then vm3's.
    int a = first.indexOf("q1:vm1:0@0");
    int b = first.indexOf("q1:vm2:0@0");
    int c = first.indexOf("q1:vm3:0@0");
    assertTrue(a >= 0 && a < b && b < c, first.toString());
  }

  @Test
  void aHolderStopsTheClockWhereItAsksAndCommandsThenRunAtThatLabTime() throws Exception {
    List<Long> commandTimes = new CopyOnWriteArrayList<>();
    LabClock clock = clock(t -> { }, TimeUnit.SECONDS.toNanos(30));
    BlockingQueue<Long> held = new LinkedBlockingQueue<>();
    ClockHolder holder = held::add;
    clock.hold(holder, 0);
    assertEquals(0L, held.poll(5, TimeUnit.SECONDS));
    FakeGuest g = new FakeGuest(1);
    g.run(clock, Collections.synchronizedList(new ArrayList<>()), 1000, new SplittableRandom(1));
    clock.hold(holder, 5 * Q - 10);
    assertEquals(5 * Q, held.poll(10, TimeUnit.SECONDS));
    clock.command(() -> commandTimes.add(clock.labTimeNs()), true);
    await().atMost(Duration.ofSeconds(5)).until(() -> commandTimes.size() == 1);
    assertEquals(5 * Q, commandTimes.get(0));
    assertEquals(5 * Q, clock.state().heldAtNs());
    assertTrue(clock.state().reproducible(), "a command while held keeps the run reproducible");
    assertThrows(IllegalArgumentException.class, () -> clock.hold(holder, Q));
    assertThrows(IllegalStateException.class, () -> clock.hold(t -> { }, 9 * Q));
  }

  @Test
  void aMemberThatStopsAnsweringIsDroppedAfterTheGraceAndTheRunIsNotReproducible() throws Exception {
    LabClock clock = clock(t -> { }, TimeUnit.MILLISECONDS.toNanos(300));
    FakeGuest silent = new FakeGuest(2);
    clock.join(2, silent);
    FakeGuest live = new FakeGuest(1);
    List<String> applied = Collections.synchronizedList(new ArrayList<>());
    live.run(clock, applied, 50, new SplittableRandom(3));
    await().atMost(Duration.ofSeconds(10)).until(() -> !silent.dropped.isEmpty());
    assertTrue(silent.dropped.get(0).contains("dropped from the lab clock"), silent.dropped.get(0));
    await().atMost(Duration.ofSeconds(10)).until(() -> clock.state().members() == 0);
    assertFalse(clock.state().reproducible());
    assertTrue(live.dropped.isEmpty());
  }

  @Test
  void theDoorbellIsDeliveredWithTheNextGrant() throws Exception {
    LabClock clock = clock(t -> { }, TimeUnit.SECONDS.toNanos(30));
    BlockingQueue<Long> held = new LinkedBlockingQueue<>();
    ClockHolder holder = held::add;
    clock.hold(holder, 0);
    held.poll(5, TimeUnit.SECONDS);
    FakeGuest g = new FakeGuest(1);
    clock.join(1, g);
    clock.ring(1);
    clock.hold(holder, Q);
    long[] first = g.grants.poll(5, TimeUnit.SECONDS);
    assertEquals(1, first[3]);
    clock.done(1, first[0], first[2], false, () -> { });
    assertEquals(Q, held.poll(5, TimeUnit.SECONDS));
    clock.hold(holder, 2 * Q);
    long[] second = g.grants.poll(5, TimeUnit.SECONDS);
    assertEquals(0, second[3]);
    assertEquals(Q, second[1]);
  }

  @Test
  void aVmCannotQueueWithoutBound() {
    LabClock clock = clock(t -> { }, TimeUnit.SECONDS.toNanos(30));
    clock.hold(t -> { }, 0);
    clock.join(1, new FakeGuest(1));
    AtomicLong ran = new AtomicLong();
    for (int i = 0; i < LabClock.MAX_QUEUED_PER_VM; i++) {
      clock.submit(1, ran::incrementAndGet);
    }
    assertThrows(QueueFullException.class, () -> clock.submit(1, ran::incrementAndGet));
    assertEquals(0, ran.get());
  }

  @Test
  void aGuestStoppedBeforeItReadItsNextGrantLeavesWithoutBeingDropped() throws Exception {
    LabClock clock = clock(t -> { }, TimeUnit.SECONDS.toNanos(30));
    FakeGuest g = new FakeGuest(1);
    clock.join(1, g);
    long[] first = g.grants.poll(5, TimeUnit.SECONDS);
    clock.done(1, first[0], first[2], false, () -> { });
    long[] second = g.grants.poll(5, TimeUnit.SECONDS);
    assertEquals(first[0] + 1, second[0]);
    // It never read the second grant: it leaves naming the first quantum.
    clock.done(1, first[0], first[2], true, () -> { });
    await().atMost(Duration.ofSeconds(5)).until(() -> clock.state().members() == 0);
    assertTrue(g.dropped.isEmpty(), g.dropped.toString());
  }

  @Test
  void aVmAlreadyPastAQuantumSitsItOutAndGetsTheGrantItRunsIn() throws Exception {
    LabClock clock = clock(t -> { }, TimeUnit.SECONDS.toNanos(30));
    FakeGuest ahead = new FakeGuest(1);
    FakeGuest other = new FakeGuest(2);
    ClockHolder holder = t -> { };
    clock.hold(holder, 0);
    clock.join(1, ahead);
    clock.join(2, other);
    await().atMost(Duration.ofSeconds(5)).until(() -> clock.state().members() == 2);
    clock.hold(holder, 10 * Q);
    long[] a = ahead.grants.poll(5, TimeUnit.SECONDS);
    long[] o = other.grants.poll(5, TimeUnit.SECONDS);
    clock.ring(1);
    // The first VM's hidden faults took it three quanta past this one's end.
    clock.done(1, a[0], a[2] + 3 * Q, false, () -> { });
    clock.done(2, o[0], o[2], false, () -> { });
    for (int i = 0; i < 3; i++) {
      long[] g = other.grants.poll(5, TimeUnit.SECONDS);
      clock.done(2, g[0], g[2], false, () -> { });
    }
    long[] next = ahead.grants.poll(5, TimeUnit.SECONDS);
    assertEquals(a[0] + 4, next[0], "the quanta it was past were not granted");
    assertEquals(4 * Q, next[1]);
    assertEquals(1, next[3], "the doorbell rung meanwhile comes with the grant it runs in");
    assertTrue(ahead.grants.isEmpty());
  }

  @Test
  void aRequestForTheTimeTheClockAlreadyHoldsIsAnsweredToo() throws Exception {
    LabClock clock = clock(t -> { }, TimeUnit.SECONDS.toNanos(30));
    BlockingQueue<Long> held = new LinkedBlockingQueue<>();
    ClockHolder holder = held::add;
    clock.hold(holder, 0);
    assertEquals(0L, held.poll(5, TimeUnit.SECONDS));
    clock.hold(holder, 0);
    assertEquals(0L, held.poll(5, TimeUnit.SECONDS), "every request is answered");
    clock.hold(holder, 3 * Q);
    assertEquals(3 * Q, held.poll(5, TimeUnit.SECONDS), "with no VM on the clock it runs to the time asked");
  }
}
