package org.balloonlab.guest.os;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.stream.Stream;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.swap.SwapDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The guest OS over a fake guest-physical memory: faults, clock replacement, guest swap, checks and time. */
class GuestOsTest {
  static final int VM = 7;
  /** Distinct constants so that each term of the clock can be told apart. */
  static final GuestCosts COSTS = new GuestCosts(7, 1_000, 30_000, 50_000);

  @TempDir
  Path dir;

  private GuestCounters counters;
  private FakePhysicalMemory mem;
  private Path swapFile;
  private GuestOs os;

  private GuestOs boot(int memoryPages, int swapSlots) {
    counters = new GuestCounters();
    mem = new FakePhysicalMemory(memoryPages, GuestOs.checkerFor(VM, counters));
    swapFile = dir.resolve("guest.swap");
    os = new GuestOs(VM, memoryPages, mem, new SwapDevice(swapFile, swapSlots), COSTS, counters);
    return os;
  }

  @AfterEach
  void shutDown() {
    if (os != null) {
      os.close();
    }
  }

  private static boolean resident(GuestProcess p, int vpn) {
    return p.pageTable[vpn] >= 0;
  }

  private static boolean swapped(GuestProcess p, int vpn) {
    return p.pageTable[vpn] <= GuestProcess.SWAPPED_BASE;
  }

  private void writeAll(GuestProcess p, int from, int to) {
    for (int vpn = from; vpn < to; vpn++) {
      os.access(p, vpn, true);
    }
  }

  private void assertNoViolations() {
    assertEquals(0, counters.integrityViolations(), "integrity violations");
    assertEquals(0, counters.isolationViolations(), "isolation violations");
  }

  // ---------------------------------------------------------------- what the hypervisor is told

  @Test
  void translationEventsTravelInOrderWithTheAccesses() {
    boot(2, 16);
    GuestProcess a = os.spawn("a", 8);
    GuestProcess b = os.spawn("b", 8);
    os.access(a, 3, true);  // first touch: switch, fault, the kernel zero-fills, map, the write
    os.access(a, 3, false);
    os.access(b, 5, true);  // another address space
    os.access(a, 4, true);  // memory is full: a victim is unmapped and read out by the kernel first
    assertEquals(java.util.List.of(
        "SWITCH 0 0 0", "FAULT 0 3 0", "KW 0", "MAP 0 3 0", "W 0 3 0",
        "R 0 3 0",
        "SWITCH 1 0 0", "FAULT 1 5 0", "KW 1", "MAP 1 5 1", "W 1 5 1",
        "SWITCH 0 0 0", "FAULT 0 4 0", "UNMAP 0 3 0", "UNMAP 1 5 0", "KS 0", "KS 1", "KW 1", "MAP 0 4 1",
        "W 0 4 1"), mem.translationLog.subList(0, 20));
    mem.translationLog.clear();
    os.exit(a);
    assertEquals(java.util.List.of("RELEASE 0 0 0"), mem.translationLog);
    os.access(b, 5, false); // swapped out: a major fault reads it back, the kernel writes it, then the map
    assertEquals("SWITCH 1 0 0", mem.translationLog.get(1));
    assertEquals("FAULT 1 5 0", mem.translationLog.get(2));
    assertTrue(mem.translationLog.get(3).startsWith("KW "), mem.translationLog.toString());
    assertTrue(mem.translationLog.get(4).startsWith("MAP 1 5 "), mem.translationLog.toString());
    assertTrue(mem.translationLog.get(5).startsWith("R 1 5 "), mem.translationLog.toString());
    assertNoViolations();
  }

  // ---------------------------------------------------------------- faults and tokens

  @Test
  void firstTouchIsAMinorTrueFaultThatZeroFills() {
    boot(8, 16);
    for (int pfn = 0; pfn < mem.size(); pfn++) {
      mem.poke(pfn, 0x5555_5555L); // stale content a previous owner left behind
    }
    GuestProcess p = os.spawn("p", 16);

    os.access(p, 3, false);

    assertEquals(1, counters.trueFaults());
    assertEquals(1, counters.minorFaults());
    assertEquals(0, counters.majorFaults());
    assertEquals(1, counters.accesses());
    assertEquals(1, counters.reads());
    assertEquals(0, counters.writes());
    int pfn = p.pageTable[3];
    assertTrue(pfn >= 0, "mapped");
    assertEquals(0L, mem.peek(pfn), "a first touch is zero-filled");
    assertArrayEquals(new long[] {pfn, 0L}, mem.writeLog.get(0), "the zero fill precedes the read");
    assertEquals(1, p.residentPages());
    assertEquals(7, os.freePages());
    assertNoViolations();

    os.access(p, 3, false);
    assertEquals(1, counters.trueFaults(), "a present page does not fault");
    assertEquals(2, counters.accesses());
    assertNoViolations();
  }

  @Test
  void firstTouchByAWriteZeroFillsThenStoresTheToken() {
    boot(8, 16);
    GuestProcess p = os.spawn("p", 4);
    os.access(p, 2, true);
    int pfn = p.pageTable[2];
    assertEquals(2, mem.writeLog.size());
    assertArrayEquals(new long[] {pfn, 0L}, mem.writeLog.get(0));
    assertArrayEquals(new long[] {pfn, Token.of(VM, p.asid(), 2, 1)}, mem.writeLog.get(1));
    assertEquals(1, counters.minorFaults());
    assertEquals(1, counters.writes());
  }

  @Test
  void writeThenReadReturnsTheTokenWithoutViolations() {
    boot(8, 16);
    GuestProcess p = os.spawn("p", 16);
    GuestProcess q = os.spawn("q", 16);
    assertEquals(0, p.asid());
    assertEquals(1, q.asid());

    os.access(p, 5, true);
    int pfn = p.pageTable[5];
    assertEquals(Token.of(VM, 0, 5, 1), mem.peek(pfn));
    os.access(p, 5, false);
    os.access(p, 5, true);
    assertEquals(Token.of(VM, 0, 5, 2), mem.peek(pfn), "each write bumps the version");
    os.access(p, 5, false);

    os.access(q, 5, true);
    int qpfn = q.pageTable[5];
    assertTrue(qpfn != pfn, "two address spaces get two pages");
    assertEquals(Token.of(VM, 1, 5, 1), mem.peek(qpfn));
    os.access(q, 5, false);
    os.access(p, 5, false);

    assertEquals(7, counters.accesses());
    assertEquals(3, counters.writes());
    assertEquals(4, counters.reads());
    assertEquals(2, counters.trueFaults());
    assertEquals(4, mem.reads);
    assertNoViolations();
  }

  // ---------------------------------------------------------------- overcommit and the guest swap

  @Test
  void aFootprintLargerThanMemoryPagesOutToSwapAndMajorFaultsBringContentBack() {
    boot(64, 512);
    GuestProcess p = os.spawn("p", 256);
    writeAll(p, 0, 256);

    assertTrue(counters.pageOuts() > 0, "clock paged out");
    assertEquals(0, counters.zeroPagesDropped(), "every page was written");
    assertEquals(0, counters.majorFaults());
    assertEquals(counters.pageOuts(), os.swapUsedPages());
    assertEquals(counters.pageOuts(), mem.swapOutPages, "each page-out read its page");
    assertTrue(mem.swapOutCalls < mem.swapOutPages, "victims are read in clusters, not one by one");
    assertEquals(256, p.residentPages() + os.swapUsedPages());
    assertEquals(64, p.residentPages() + os.freePages());
    assertTrue(swapped(p, 0), "the oldest page went to swap");

    long majorBefore = counters.majorFaults();
    os.access(p, 0, false);
    assertEquals(majorBefore + 1, counters.majorFaults());
    assertEquals(1, counters.pageIns());
    assertTrue(resident(p, 0));
    assertEquals(Token.of(VM, 0, 0, 1), mem.peek(p.pageTable[0]), "the page came back with its content");
    assertNoViolations();

    Random random = new Random(42);
    for (int i = 0; i < 20_000; i++) {
      os.access(p, random.nextInt(256), random.nextInt(10) < 3);
    }
    assertTrue(counters.majorFaults() > 1_000, "random accesses over 4x memory fault a lot: "
        + counters.majorFaults());
    assertTrue(counters.pageIns() == counters.majorFaults());
    assertEquals(256, p.residentPages() + os.swapUsedPages(), "every page is in memory or in swap, once");
    assertNoViolations();

    os.verifyAll();
    assertNoViolations();
    assertTrue(mem.flushes > 0, "the audit flushes");
  }

  @Test
  void verifyAllAuditsResidentAndSwappedPages() throws IOException {
    boot(32, 128);
    GuestProcess p = os.spawn("p", 96);
    writeAll(p, 0, 96);
    os.verifyAll();
    assertNoViolations();

    int residentVpn = -1;
    int swappedVpn = -1;
    for (int vpn = 0; vpn < 96; vpn++) {
      if (residentVpn < 0 && resident(p, vpn)) {
        residentVpn = vpn;
      }
      if (swappedVpn < 0 && swapped(p, vpn)) {
        swappedVpn = vpn;
      }
    }
    assertTrue(residentVpn >= 0 && swappedVpn >= 0);
    mem.poke(p.pageTable[residentVpn], 0xBADL);
    int slot = GuestProcess.SWAPPED_BASE - p.pageTable[swappedVpn];
    try (FileChannel ch = FileChannel.open(unlinkedSwapFile(), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(Long.BYTES).putLong(0, 0xBADL), (long) slot * Long.BYTES);
    }

    os.verifyAll();
    assertEquals(2, counters.integrityViolations(), "one bad page in memory, one in swap");
    assertEquals(0, counters.isolationViolations());
  }

  @Test
  void pagesNeverWrittenAreDroppedWithoutSwapIo() {
    boot(64, 512);
    GuestProcess p = os.spawn("p", 256);
    for (int vpn = 0; vpn < 256; vpn++) {
      os.access(p, vpn, false);
    }
    assertEquals(256, counters.minorFaults());
    assertEquals(192, counters.zeroPagesDropped(), "all but the 64 resident pages were dropped");
    assertEquals(0, counters.pageOuts());
    assertEquals(0, os.swapUsedPages());
    assertEquals(0, mem.swapOutCalls, "a clean page is never read for swap-out");
    assertEquals(GuestProcess.UNMAPPED, p.pageTable[0], "a dropped page is simply unmapped");

    os.access(p, 0, false);
    assertEquals(257, counters.minorFaults(), "touching a dropped page is a minor fault again");
    assertEquals(0, counters.majorFaults());
    assertNoViolations();
  }

  @Test
  void onlyWrittenPagesGoToSwapWhenCleanAndDirtyPagesMix() {
    boot(64, 512);
    GuestProcess p = os.spawn("p", 512);
    Random random = new Random(3);
    for (int i = 0; i < 10_000; i++) {
      int vpn = random.nextInt(512);
      os.access(p, vpn, vpn % 2 == 0); // even pages are written, odd pages only read
    }
    assertTrue(counters.pageOuts() > 0);
    assertTrue(counters.zeroPagesDropped() > 0);
    for (int vpn = 1; vpn < 512; vpn += 2) {
      assertFalse(swapped(p, vpn), "read-only vpn " + vpn + " must never be in swap");
    }
    long dirtyOut = 0;
    for (int vpn = 0; vpn < 512; vpn += 2) {
      if (swapped(p, vpn)) {
        dirtyOut++;
      }
    }
    assertEquals(dirtyOut, os.swapUsedPages());
    os.verifyAll();
    assertNoViolations();
  }

  // ---------------------------------------------------------------- clock

  /**
   * Memory of 128 pages filled with vpn = pfn. The first reclaim clears every accessed bit and evicts pfns 0-31
   * (hand at 32). Then vpn 40 is touched (or not), the free list refilled, and the next reclaim sweeps from 32:
   * a touched page gets its second chance and survives while its cold neighbours go.
   */
  @ParameterizedTest(name = "hot page touched between faults: {0}")
  @ValueSource(booleans = {true, false})
  void clockGivesASecondChanceToPagesWithTheAccessedBitSet(boolean touchHot) {
    boot(128, 1024);
    GuestProcess p = os.spawn("p", 512);
    writeAll(p, 0, 128);
    for (int vpn = 0; vpn < 128; vpn++) {
      assertEquals(vpn, p.pageTable[vpn], "free pages are handed out from PFN 0 up");
    }
    os.access(p, 128, true);
    assertEquals(32, counters.pageOuts(), "one cluster was reclaimed");
    for (int vpn = 0; vpn < 32; vpn++) {
      assertTrue(swapped(p, vpn), "vpn " + vpn);
    }
    if (touchHot) {
      os.access(p, 40, false);
    }
    writeAll(p, 129, 160);
    assertEquals(0, os.freePages());
    os.access(p, 160, true);
    assertEquals(64, counters.pageOuts(), "a second cluster was reclaimed");
    assertTrue(swapped(p, 39), "cold page before the hot one");
    assertTrue(swapped(p, 41), "cold page after the hot one");
    assertEquals(touchHot, resident(p, 40), "the hot page stays only if its accessed bit was set");
    if (touchHot) {
      assertEquals(40, p.pageTable[40], "and in the same frame");
      assertTrue(swapped(p, 64), "the hand went one page further instead");
    } else {
      assertTrue(resident(p, 64));
    }
    assertNoViolations();
  }

  // ---------------------------------------------------------------- exit

  @Test
  void exitReturnsPagesAndSwapSlots() {
    boot(64, 512);
    GuestProcess p = os.spawn("p", 200);
    writeAll(p, 0, 200);
    assertEquals(64, p.residentPages() + os.freePages());
    assertEquals(200, p.residentPages() + os.swapUsedPages());
    assertTrue(os.swapUsedPages() > 0);

    os.exit(p);
    assertTrue(p.exited());
    assertEquals(0, p.residentPages());
    assertEquals(64, os.freePages(), "every page is free again");
    assertEquals(0, os.swapUsedPages(), "every swap slot is released");
    os.exit(p); // a second exit is a no-op
    assertEquals(64, os.freePages());

    long pageOuts = counters.pageOuts();
    GuestProcess q = os.spawn("q", 64);
    writeAll(q, 0, 64);
    for (int vpn = 0; vpn < 64; vpn++) {
      os.access(q, vpn, false);
    }
    assertEquals(pageOuts, counters.pageOuts(), "the freed memory holds the new process without paging");
    assertEquals(0, os.freePages());
    assertEquals(0, os.swapUsedPages());
    os.verifyAll();
    assertNoViolations();
  }

  // ---------------------------------------------------------------- the oracle

  @Test
  void aCorruptedValueIsAnIntegrityViolation() {
    boot(8, 16);
    GuestProcess p = os.spawn("p", 4);
    writeAll(p, 0, 4);
    int bad = p.pageTable[2];
    mem.corrupt((pfn, stored) -> pfn == bad ? stored ^ 1 : stored);
    for (int vpn = 0; vpn < 4; vpn++) {
      os.access(p, vpn, false);
    }
    assertEquals(1, counters.integrityViolations());
    assertEquals(0, counters.isolationViolations());
    GuestStatus s = os.status("w", false);
    assertEquals(1, s.integrityViolations());
  }

  @Test
  void aLostWriteIsAnIntegrityViolation() {
    boot(8, 16);
    GuestProcess p = os.spawn("p", 4);
    os.access(p, 1, true);
    mem.poke(p.pageTable[1], 0L); // the frame was zeroed under the guest
    os.access(p, 1, false);
    assertEquals(1, counters.integrityViolations());
    assertEquals(0, counters.isolationViolations());
  }

  @Test
  void anotherVmsTokenIsAnIsolationViolation() {
    boot(8, 16);
    GuestProcess p = os.spawn("p", 4);
    writeAll(p, 0, 4);
    int leaked = p.pageTable[3];
    mem.corrupt((pfn, stored) -> pfn == leaked ? Token.of(VM + 1, 0, 3, 1) : stored);
    for (int vpn = 0; vpn < 4; vpn++) {
      os.access(p, vpn, false);
    }
    assertEquals(1, counters.isolationViolations());
    assertEquals(0, counters.integrityViolations());
    assertEquals(1, os.status("w", false).isolationViolations());
  }

  @Test
  void aCorruptedSwapOutReadIsCaught() {
    boot(32, 128);
    GuestProcess p = os.spawn("p", 64);
    writeAll(p, 0, 32);
    int bad = p.pageTable[0];
    mem.corrupt((pfn, stored) -> pfn == bad ? Token.of(VM + 2, 0, 0, 1) : stored);
    os.access(p, 32, true); // evicts vpn 0 through the corrupting read
    mem.corrupt((pfn, stored) -> stored);
    assertTrue(swapped(p, 0));
    assertEquals(1, counters.isolationViolations(), "the swap-out read itself is checked");
    os.access(p, 0, false); // and the wrong content comes back from swap
    assertEquals(1, counters.integrityViolations(), "the page-in is checked too");
  }

  @Test
  void checkerSortsMismatchesIntoIntegrityAndIsolation() {
    GuestCounters c = new GuestCounters();
    PhysicalMemory.ReadChecker checker = GuestOs.checkerFor(VM, c);
    checker.mismatch(0, Token.of(VM, 0, 0, 1), 0L);
    checker.mismatch(0, Token.of(VM, 0, 0, 1), Token.of(VM, 0, 0, 2));
    checker.mismatch(0, Token.of(VM, 0, 0, 1), Token.of(VM, 3, 9, 1)); // own VM, other process: integrity
    checker.mismatch(0, Token.of(VM, 0, 0, 1), 12345L);
    assertEquals(4, c.integrityViolations());
    assertEquals(0, c.isolationViolations());
    checker.mismatch(0, Token.of(VM, 0, 0, 1), Token.of(VM + 1, 0, 0, 1));
    checker.mismatch(0, 0L, Token.of(1, 2, 3, 4));
    assertEquals(2, c.isolationViolations());
    assertEquals(4, c.integrityViolations());
  }

  // ---------------------------------------------------------------- out of memory

  @Test
  void outOfMemoryWhenMemoryAndSwapAreBothFull() {
    boot(32, 32);
    GuestProcess p = os.spawn("p", 100);
    writeAll(p, 0, 64);
    assertEquals(32, os.swapUsedPages());
    assertEquals(0, os.freePages());
    GuestOutOfMemoryException e = assertThrows(GuestOutOfMemoryException.class, () -> os.access(p, 64, true));
    assertTrue(e.getMessage().contains("swap"), e.getMessage());
  }

  @Test
  void cleanPagesNeverRunOutOfMemory() {
    boot(32, 1);
    GuestProcess p = os.spawn("p", 1_000);
    for (int vpn = 0; vpn < 1_000; vpn++) {
      os.access(p, vpn, false);
    }
    assertEquals(0, os.swapUsedPages());
    assertNoViolations();
  }

  /**
   * The command line accepts any run whose footprint fits in memory + swap, so the OS must manage with swap of
   * exactly footprint - memory: it reads a faulting page back (freeing its slot) before reclaiming, and never
   * picks more dirty victims than it has free slots.
   */
  @Test
  void memoryPlusSwapAsLargeAsTheFootprintIsEnough() {
    boot(64, 192);
    GuestProcess p = os.spawn("p", 256);
    Random random = new Random(1);
    for (int i = 0; i < 20_000; i++) {
      os.access(p, random.nextInt(256), true);
    }
    os.verifyAll();
    assertNoViolations();
  }

  // ---------------------------------------------------------------- simulated time

  @Test
  void simulatedTimeFollowsTheCostModel() {
    boot(64, 512);
    GuestProcess p = os.spawn("p", 256);
    assertEquals(0, os.simulatedNs());

    os.access(p, 0, true);
    assertEquals(7 + 1_000, os.simulatedNs(), "one access and one fault");
    os.access(p, 0, false);
    assertEquals(2 * 7 + 1_000, os.simulatedNs());

    Random random = new Random(9);
    for (int i = 0; i < 5_000; i++) {
      os.access(p, random.nextInt(256), random.nextBoolean());
    }
    assertTrue(counters.pageOuts() > 0 && counters.pageIns() > 0);
    long expected = counters.accesses() * 7 + counters.trueFaults() * 1_000 + counters.pageIns() * 30_000
        + counters.pageOuts() * 50_000;
    assertEquals(expected, os.simulatedNs());

    mem.setHypervisorNs(12_345);
    os.chargeIdle(1_000_000);
    assertEquals(expected + 12_345 + 1_000_000, os.simulatedNs(), "hypervisor time and idle time add up");

    GuestStatus s = os.status("uniform", true);
    assertEquals(os.simulatedNs(), s.simulatedNs());
    assertEquals(counters.accesses(), s.accesses());
    assertEquals(counters.trueFaults(), s.trueFaults());
    assertEquals(counters.majorFaults(), s.majorFaults());
    assertEquals(counters.minorFaults(), s.minorFaults());
    assertEquals(counters.pageOuts(), s.pageOuts());
    assertEquals(counters.pageIns(), s.pageIns());
    assertEquals(os.freePages(), s.freePages());
    assertEquals(64, s.totalPages());
    assertEquals(os.swapUsedPages(), s.swapUsedPages());
    assertEquals("uniform", s.workload());
    assertTrue(s.workloadDone());
  }

  @Test
  void droppedZeroPagesCostNoSwapTime() {
    boot(32, 64);
    GuestProcess p = os.spawn("p", 200);
    for (int vpn = 0; vpn < 200; vpn++) {
      os.access(p, vpn, false);
    }
    assertEquals(200 * 7 + 200 * 1_000, os.simulatedNs());
  }

  // ---------------------------------------------------------------- limits and lifecycle

  @Test
  void refusesBadSizesAndTooManyProcesses() {
    assertThrows(IllegalArgumentException.class, () -> new GuestOs(VM, 0, new FakePhysicalMemory(1, null),
        new SwapDevice(dir.resolve("x.swap"), 1), COSTS, new GuestCounters()));
    boot(4, 4);
    assertThrows(IllegalArgumentException.class, () -> os.spawn("empty", 0));
    assertThrows(IllegalArgumentException.class, () -> os.spawn("huge", Token.MAX_VPN + 2));
    for (int i = 0; i <= Token.MAX_ASID; i++) {
      os.spawn("p" + i, 1);
    }
    assertEquals(Token.MAX_ASID + 1, os.processes().size());
    assertThrows(IllegalStateException.class, () -> os.spawn("one-too-many", 1));
  }

  @Test
  void theSwapFileIsUnlinkedOnceOpenAndItsSpaceGoesWithClose() throws IOException {
    boot(4, 4);
    assertFalse(Files.exists(swapFile), "nothing to leave behind, however the guest ends");
    assertTrue(Files.exists(unlinkedSwapFile()));
    os.close();
    os = null;
    assertFalse(Files.exists(swapFile));
  }

  /** The unlinked swap file, through the descriptor that still holds it open (Linux {@code /proc/self/fd}). */
  private Path unlinkedSwapFile() throws IOException {
    Path fds = Path.of("/proc/self/fd");
    Assumptions.assumeTrue(Files.isDirectory(fds), "needs Linux /proc to reach an unlinked file");
    String deleted = swapFile.toAbsolutePath() + " (deleted)";
    try (Stream<Path> all = Files.list(fds)) {
      return all.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).toString().equals(deleted);
        } catch (IOException e) {
          return false;
        }
      }).findFirst().orElseThrow(() -> new AssertionError("no descriptor holds " + deleted));
    }
  }

  /**
   * When dropped zero pages refill the free list after dirty victims were already chosen in the same sweep,
   * those victims must still be paged out, not left marked and never eligible again.
   */
  @Test
  void victimsChosenBeforeTheFreeListRefillsAreStillPagedOut() {
    boot(64, 512);
    GuestProcess p = os.spawn("p", 1_000);
    writeAll(p, 0, 5); // pfn 0-4 dirty
    for (int vpn = 5; vpn < 64; vpn++) {
      os.access(p, vpn, false); // pfn 5-63 clean
    }
    os.access(p, 64, false); // reclaim: victims pfn 0-4, then 32 clean pages dropped
    for (int vpn = 65; vpn < 1_000; vpn++) {
      os.access(p, vpn, false); // a long cold scan: vpn 0-4 are never touched again
    }
    for (int vpn = 0; vpn < 5; vpn++) {
      assertTrue(swapped(p, vpn), "cold dirty vpn " + vpn + " should have been paged out");
    }
    assertEquals(5, counters.pageOuts());
  }
}
