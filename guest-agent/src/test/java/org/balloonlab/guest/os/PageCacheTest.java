package org.balloonlab.guest.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.balloonlab.swap.SwapDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The page cache: hits and misses, write-back, and its place in reclaim (before any process page). */
class PageCacheTest {
  static final int VM = 9;
  static final GuestCosts COSTS = new GuestCosts(7, 1_000, 30_000, 50_000);

  @TempDir
  Path dir;

  private GuestCounters counters;
  private FakePhysicalMemory mem;
  private GuestOs os;

  private GuestOs boot(int memoryPages) {
    counters = new GuestCounters();
    mem = new FakePhysicalMemory(memoryPages, GuestOs.checkerFor(VM, counters));
    os = new GuestOs(VM, memoryPages, mem, new SwapDevice(dir.resolve("g.swap"), 4 * memoryPages), COSTS, counters);
    os.boot();
    return os;
  }

  @AfterEach
  void shutDown() {
    if (os != null) {
      os.close();
    }
  }

  private void assertNoViolations() {
    assertEquals(0, counters.integrityViolations(), "integrity violations");
    assertEquals(0, counters.isolationViolations(), "isolation violations");
  }

  @Test
  void aMissFillsTheCacheAndAHitCostsOneAccess() {
    boot(64);
    GuestProcess p = os.spawn("db", 4);
    os.attachFiles(p, 32);
    os.fileAccess(p, 3, true);
    assertEquals(1, counters.cacheMisses());
    assertEquals(0, counters.cacheDiskReads(), "a hole reads nothing from disk");
    long before = os.simulatedNs();
    os.fileAccess(p, 3, false);
    assertEquals(1, counters.cacheHits());
    assertEquals(COSTS.memoryAccessNs(), os.simulatedNs() - before, "a hit costs one access");
    assertEquals(1, counters.pageCachePages());
    assertEquals(63, os.freePages());
    assertTrue(os.pageCache().isDirty(3));
    assertEquals(2, counters.fileOps());
    assertNoViolations();
  }

  @Test
  void cleanCachePagesAreDroppedBeforeProcessPagesAreSwapped() {
    boot(64);
    GuestProcess db = os.spawn("db", 4);
    os.attachFiles(db, 48);
    for (int page = 0; page < 48; page++) {
      os.fileAccess(db, page, false); // clean
    }
    GuestProcess anon = os.spawn("anon", 40);
    for (int vpn = 0; vpn < 40; vpn++) {
      os.access(anon, vpn, true);
    }
    assertEquals(0, counters.pageOuts(), "no process page went to swap while the cache held clean pages");
    assertTrue(counters.cacheDrops() >= 24, "cache pages dropped: " + counters.cacheDrops());
    assertEquals(0, counters.cacheWritebacks(), "clean pages need no write-back");
    assertEquals(40, anon.residentPages());
    os.verifyAll();
    assertNoViolations();
  }

  @Test
  void dirtyPagesAreWrittenBackBeforeTheyAreDropped() {
    boot(64);
    GuestProcess db = os.spawn("db", 4);
    os.attachFiles(db, 48);
    for (int page = 0; page < 48; page++) {
      os.fileAccess(db, page, true); // dirty
    }
    GuestProcess anon = os.spawn("anon", 40);
    for (int vpn = 0; vpn < 40; vpn++) {
      os.access(anon, vpn, true);
    }
    assertEquals(0, counters.pageOuts());
    assertTrue(counters.cacheWritebacks() > 0);
    assertEquals(counters.cacheDrops(), counters.cacheWritebacks(), "every dropped page was dirty and written back");
    PageCache cache = os.pageCache();
    int dropped = -1;
    for (int page = 0; page < 48 && dropped < 0; page++) {
      if (!cache.isCached(page)) {
        dropped = page;
      }
    }
    assertTrue(dropped >= 0);
    assertEquals(Token.file(VM, dropped, 1), cache.onDisk(dropped), "the disk holds what was written");
    long reads = counters.cacheDiskReads();
    os.fileAccess(db, dropped, false);
    assertEquals(reads + 1, counters.cacheDiskReads(), "a miss on a written page reads the disk");
    os.verifyAll();
    assertNoViolations();
  }

  @Test
  void balloonInflationTakesTheCacheFirst() {
    boot(64);
    GuestProcess anon = os.spawn("anon", 16);
    for (int vpn = 0; vpn < 16; vpn++) {
      os.access(anon, vpn, true);
    }
    GuestProcess db = os.spawn("db", 4);
    os.attachFiles(db, 48);
    for (int page = 0; page < 48; page++) {
      os.fileAccess(db, page, page % 2 == 0);
    }
    assertEquals(0, os.freePages());
    int[] out = new int[32];
    assertEquals(32, os.allocateBalloonPages(out, 32));
    assertEquals(0, counters.pageOuts(), "the balloon took cache pages, not process memory");
    assertEquals(16, anon.residentPages());
    assertTrue(counters.cacheDrops() >= 32);
    os.verifyAll();
    assertNoViolations();
  }

  @Test
  void aLostWriteIsCaught() {
    boot(64);
    GuestProcess db = os.spawn("db", 4);
    os.attachFiles(db, 8);
    os.fileAccess(db, 2, true);
    mem.corrupt((pfn, stored) -> Token.file(VM, 2, 7));
    os.fileAccess(db, 2, false);
    assertEquals(1, counters.integrityViolations());
    assertEquals(0, counters.isolationViolations());
    mem.corrupt((pfn, stored) -> Token.file(VM + 1, 2, 1));
    os.fileAccess(db, 2, false);
    assertEquals(1, counters.isolationViolations(), "another VM's file page");
  }

  @Test
  void filesAreTheProcessesOwn() {
    boot(64);
    GuestProcess a = os.spawn("a", 4);
    GuestProcess b = os.spawn("b", 4);
    os.attachFiles(a, 8);
    os.attachFiles(b, 8);
    os.fileAccess(a, 0, true);
    os.fileAccess(b, 0, false);
    assertEquals(2, counters.cacheMisses(), "page 0 of b is another file page than a's");
    assertFalse(os.pageCache().isDirty(8));
    assertNoViolations();
  }
}
