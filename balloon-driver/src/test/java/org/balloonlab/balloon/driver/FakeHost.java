package org.balloonlab.balloon.driver;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.balloonlab.balloon.driver.BalloonHostException.Kind;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.kernel.MemoryStats;

/**
 * An in-memory hypervisor balloon service: a target, the set of locked PFNs, sessions and a doorbell that
 * rings (at once on listening, then on every change of target, reset or requested mode). It can refuse pages,
 * force a reset, make the session stale and fail calls on demand, and it records what the driver asked.
 */
public final class FakeHost implements BalloonHost {
  /** The calls, for {@link #failNext}. */
  public enum Call { START, GET_TARGET, LOCK, UNLOCK, STATS, DOORBELL }

  private final int vmPages;
  private final BitSet locked;
  private long target;
  private boolean resetPending;
  private DriverMode requestedMode;
  private long session;
  private long nextSession = 100;
  private int maxBatch = 512;
  private boolean grantBatched = true;
  private boolean grantDoorbell = true;
  private boolean grantStats = true;
  private boolean refuseAll;
  private int refuseNext;
  private final BitSet everRefused = new BitSet();
  private final Map<Call, Integer> failNext = new HashMap<>();
  private Kind failKind = Kind.UNAVAILABLE;
  private final Map<Call, Long> calls = new HashMap<>();
  private final List<int[]> lockRequests = new ArrayList<>();
  private final Map<Object, Runnable> doorbells = new HashMap<>();
  private final Map<Object, Long> doorbellSessions = new HashMap<>();
  private long lastReportedSize = -1;
  private MemoryStats lastStats;
  private volatile Runnable onCall = () -> { };
  private final Map<Call, Integer> loseAnswers = new HashMap<>();
  private long lastRequestId;
  private boolean lastLock;
  private int[] lastPfns = new int[0];
  private PageStatus[] lastStatuses = new PageStatus[0];
  private Target lastReply;
  private long repeatsAnswered;

  public FakeHost(int vmPages) {
    this.vmPages = vmPages;
    this.locked = new BitSet(vmPages);
  }

  // ---------------------------------------------------------------------------------------- BalloonHost

  @Override
  public Session start() {
    onCall.run();
    synchronized (this) {
      enter(Call.START, -1);
      session = nextSession++;
      lastRequestId = 0;
      resetPending = false;
      // A new session replaces the old one; the old one's doorbells go quiet.
      doorbellSessions.entrySet().removeIf(e -> {
        boolean old = e.getValue() != session;
        if (old) {
          doorbells.remove(e.getKey());
        }
        return old;
      });
      return new Session(session, grantBatched ? maxBatch : 1, grantBatched, grantDoorbell, grantStats, reply());
    }
  }

  @Override
  public Target getTarget(long sessionId, long balloonPages) {
    onCall.run();
    synchronized (this) {
      enter(Call.GET_TARGET, sessionId);
      lastReportedSize = balloonPages;
      return reply();
    }
  }

  @Override
  public Target lock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses) {
    onCall.run();
    synchronized (this) {
      enter(Call.LOCK, sessionId);
      checkBatch(count);
      lockRequests.add(Arrays.copyOf(pfns, count));
      Target again = repeat(requestId, true, pfns, count, statuses);
      return answered(Call.LOCK, requestId, true, pfns, count, statuses,
          again != null ? again : applyLock(pfns, count, statuses), again != null);
    }
  }

  /**
   * As the hypervisor does with a request id: the same id as the last one applied answers its answer again and
   * changes nothing; an older one is refused as a stale request.
   */
  private Target repeat(long requestId, boolean lock, int[] pfns, int count, PageStatus[] statuses) {
    if (requestId == 0 || requestId > lastRequestId) {
      return null;
    }
    if (requestId < lastRequestId) {
      throw new BalloonHostException(Kind.STALE_SESSION, "request " + requestId + " was overtaken", null);
    }
    if (lastLock != lock || !Arrays.equals(lastPfns, Arrays.copyOf(pfns, count))) {
      throw new BalloonHostException(Kind.INVALID, "request " + requestId + " repeated with other pages", null);
    }
    System.arraycopy(lastStatuses, 0, statuses, 0, count);
    repeatsAnswered++;
    return lastReply;
  }

  /** Remembers an applied call under its id (not a repeat: it was), then loses its answer if told to. */
  private Target answered(Call call, long requestId, boolean lock, int[] pfns, int count, PageStatus[] statuses,
                          Target reply, boolean repeated) {
    if (requestId != 0 && !repeated) {
      lastRequestId = requestId;
      lastLock = lock;
      lastPfns = Arrays.copyOf(pfns, count);
      lastStatuses = Arrays.copyOf(statuses, count);
      lastReply = reply;
    }
    Integer lose = loseAnswers.get(call);
    if (lose != null && lose > 0) {
      loseAnswers.put(call, lose - 1);
      throw new BalloonHostException(Kind.UNAVAILABLE, "applied, but the answer was lost (DEADLINE_EXCEEDED)",
          null);
    }
    return reply;
  }

  private Target applyLock(int[] pfns, int count, PageStatus[] statuses) {
    BitSet seen = new BitSet();
    for (int i = 0; i < count; i++) {
      int pfn = pfns[i];
      if (resetPending) {
        statuses[i] = PageStatus.RESET;
      } else if (pfn < 0 || pfn >= vmPages) {
        statuses[i] = PageStatus.INVALID;
      } else if (seen.get(pfn)) {
        statuses[i] = PageStatus.DUPLICATE;
      } else if (locked.get(pfn)) {
        statuses[i] = PageStatus.ALREADY_LOCKED;
      } else if (refuseAll || refuseNext > 0) {
        if (refuseNext > 0) {
          refuseNext--;
        }
        everRefused.set(pfn);
        statuses[i] = PageStatus.REFUSED;
      } else {
        locked.set(pfn);
        statuses[i] = PageStatus.OK;
      }
      if (pfn >= 0) {
        seen.set(pfn);
      }
    }
    return reply();
  }

  @Override
  public Target unlock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses) {
    onCall.run();
    synchronized (this) {
      enter(Call.UNLOCK, sessionId);
      checkBatch(count);
      Target again = repeat(requestId, false, pfns, count, statuses);
      return answered(Call.UNLOCK, requestId, false, pfns, count, statuses,
          again != null ? again : applyUnlock(pfns, count, statuses), again != null);
    }
  }

  private Target applyUnlock(int[] pfns, int count, PageStatus[] statuses) {
    for (int i = 0; i < count; i++) {
      int pfn = pfns[i];
      if (resetPending) {
        statuses[i] = PageStatus.RESET;
      } else if (pfn < 0 || pfn >= vmPages) {
        statuses[i] = PageStatus.INVALID;
      } else if (!locked.get(pfn)) {
        statuses[i] = PageStatus.NOT_LOCKED;
      } else {
        locked.clear(pfn);
        statuses[i] = PageStatus.OK;
      }
    }
    return reply();
  }

  @Override
  public Target reportStats(long sessionId, MemoryStats stats) {
    onCall.run();
    synchronized (this) {
      enter(Call.STATS, sessionId);
      lastStats = stats;
      return reply();
    }
  }

  @Override
  public AutoCloseable listenDoorbell(long sessionId, Runnable ring) {
    onCall.run();
    Object key = new Object();
    synchronized (this) {
      enter(Call.DOORBELL, sessionId);
      doorbells.put(key, ring);
      doorbellSessions.put(key, sessionId);
    }
    // The first ring comes at once, as the real service sends the current state.
    ring.run();
    return () -> {
      synchronized (this) {
        doorbells.remove(key);
        doorbellSessions.remove(key);
      }
    };
  }

  // ------------------------------------------------------------------------------------ test controls

  public void setTarget(long pages) {
    synchronized (this) {
      target = pages;
    }
    ring();
  }

  public void requestMode(DriverMode mode) {
    synchronized (this) {
      requestedMode = mode;
    }
    ring();
  }

  /** Changes target and requested mode together, with one ring. */
  public void update(long pages, DriverMode mode) {
    synchronized (this) {
      target = pages;
      requestedMode = mode;
    }
    ring();
  }

  /** Loses track of the balloon: every page unlocked, replies say RESET until the next Start. */
  public void forceReset() {
    synchronized (this) {
      locked.clear();
      resetPending = true;
    }
    ring();
  }

  /** Makes the current session stale, as a restarted hypervisor would. */
  public synchronized void invalidateSession() {
    session = -1;
  }

  public synchronized void refuseNext(int pages) {
    refuseNext = pages;
  }

  public synchronized void refuseAll(boolean refuse) {
    refuseAll = refuse;
  }

  /** The next {@code times} calls of {@code call} fail as a whole with {@code kind}. */
  /** The next {@code times} lock or unlock calls are applied, then fail UNAVAILABLE: their answers are lost. */
  public synchronized void loseNextAnswers(Call call, int times) {
    loseAnswers.put(call, times);
  }

  /** Retries answered from the last request id applied, without applying them again. */
  public synchronized long repeatsAnswered() {
    return repeatsAnswered;
  }

  public synchronized void failNext(Call call, int times, Kind kind) {
    failNext.put(call, times);
    failKind = kind;
  }

  public synchronized void grant(boolean batched, boolean doorbell, boolean stats) {
    grantBatched = batched;
    grantDoorbell = doorbell;
    grantStats = stats;
  }

  public synchronized void setMaxBatch(int pages) {
    maxBatch = pages;
  }

  /** Marks a page locked behind the driver's back. */
  public synchronized void preLock(int pfn) {
    locked.set(pfn);
  }

  public synchronized long calls(Call call) {
    return calls.getOrDefault(call, 0L);
  }

  public synchronized long totalCalls() {
    return calls.values().stream().mapToLong(Long::longValue).sum();
  }

  public synchronized int lockedCount() {
    return locked.cardinality();
  }

  public synchronized boolean isLocked(int pfn) {
    return locked.get(pfn);
  }

  public synchronized List<int[]> lockRequests() {
    return List.copyOf(lockRequests);
  }

  public synchronized long pagesOffered() {
    return lockRequests.stream().mapToLong(r -> r.length).sum();
  }

  public synchronized int[] everRefused() {
    return everRefused.stream().toArray();
  }

  public synchronized int openDoorbells() {
    return doorbells.size();
  }

  public synchronized long lastReportedSize() {
    return lastReportedSize;
  }

  public synchronized MemoryStats lastStats() {
    return lastStats;
  }

  /** The reply every call would carry now, for the gRPC adapter's doorbell. */
  public synchronized Target current() {
    return reply();
  }

  public void onCall(Runnable hook) {
    this.onCall = hook;
  }

  // ----------------------------------------------------------------------------------------- internals

  private void enter(Call call, long sessionId) {
    calls.merge(call, 1L, Long::sum);
    Integer failures = failNext.get(call);
    if (failures != null && failures > 0) {
      failNext.put(call, failures - 1);
      throw new BalloonHostException(failKind, "told to fail " + call, null);
    }
    if (call != Call.START && sessionId != session) {
      throw new BalloonHostException(Kind.STALE_SESSION, "session " + sessionId + " is stale", null);
    }
  }

  private void checkBatch(int count) {
    if (count > (grantBatched ? maxBatch : 1)) {
      throw new BalloonHostException(Kind.INVALID, count + " pages exceed the batch limit", null);
    }
  }

  private Target reply() {
    return new Target(target, resetPending, requestedMode);
  }

  private void ring() {
    List<Runnable> rings;
    synchronized (this) {
      rings = new ArrayList<>(doorbells.values());
    }
    for (Runnable r : rings) {
      r.run();
    }
  }
}
