package org.balloonlab.guest.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.balloonlab.swap.SwapDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Boot structures: sized by configured memory, written at boot, never ballooned nor paged by the guest. */
class BootStructuresTest {
  static final int VM = 5;
  static final GuestCosts COSTS = new GuestCosts(7, 1_000, 30_000, 50_000);

  @TempDir
  Path dir;

  private GuestCounters counters;
  private FakePhysicalMemory mem;
  private GuestOs os;

  private GuestOs boot(int memoryPages, GuestBoot boot) {
    counters = new GuestCounters();
    mem = new FakePhysicalMemory(memoryPages, GuestOs.checkerFor(VM, counters));
    os = new GuestOs(VM, memoryPages, mem, new SwapDevice(dir.resolve("g" + memoryPages + ".swap"), 4 * memoryPages),
        COSTS, counters, boot);
    os.boot();
    return os;
  }

  @AfterEach
  void shutDown() {
    if (os != null) {
      os.close();
    }
  }

  @Test
  void linuxRatioIsSixtyFourBytesPerPage() {
    assertEquals(0.015625, BootStructures.DEFAULT_RATIO);
    // 512 MiB: 131072 pages, 2048 pages (8 MiB) of struct page.
    assertEquals(2048, BootStructures.pagesFor(131072, BootStructures.DEFAULT_RATIO));
    assertEquals(1, BootStructures.pagesFor(10, BootStructures.DEFAULT_RATIO), "rounded up");
    assertEquals(0, BootStructures.pagesFor(131072, 0));
  }

  @Test
  void bootPinsAndWritesTheStructuresAndTheImage() {
    boot(1024, new GuestBoot("linux", 32, BootStructures.DEFAULT_RATIO));
    assertEquals(16, counters.bootPages());
    assertEquals(32, counters.imagePages());
    assertEquals(1024 - 48, os.freePages());
    for (int pfn = 0; pfn < 16; pfn++) {
      assertEquals(Token.kernelData(VM, pfn), mem.peek(pfn), "boot structure page " + pfn + " is touched at boot");
    }
    for (int i = 0; i < 32; i++) {
      assertEquals(ContentImage.imageToken("linux", i), mem.peek(16 + i), "image page " + i);
    }
    assertEquals(1024, os.memoryStats().totalPages());
    assertEquals(1024 - 48, os.memoryStats().freePages());
  }

  @Test
  void theBalloonNeverGetsBootMemory() {
    boot(512, new GuestBoot("linux", 16, 0.0625));
    int pinned = 32 + 16;
    int[] out = new int[512];
    int got = os.allocateBalloonPages(out, 512);
    assertEquals(512 - pinned, got, "everything but the boot memory");
    for (int i = 0; i < got; i++) {
      assertTrue(out[i] >= pinned, "PFN " + out[i] + " is boot memory");
    }
    os.verifyAll();
    assertEquals(0, counters.integrityViolations());
  }

  @Test
  void theClockNeverPagesBootMemoryOut() {
    boot(256, new GuestBoot("linux", 16, 0.0625));
    GuestProcess p = os.spawn("p", 1024);
    for (int round = 0; round < 2; round++) {
      for (int vpn = 0; vpn < 1024; vpn++) {
        os.access(p, vpn, true);
      }
    }
    assertTrue(counters.pageOuts() > 0, "memory was under pressure");
    for (int pfn : mem.swapOutPfns) {
      assertTrue(pfn >= 32, "PFN " + pfn + " is boot memory and was paged out");
    }
    for (int pfn = 0; pfn < 16; pfn++) {
      assertEquals(Token.kernelData(VM, pfn), mem.peek(pfn));
    }
    os.verifyAll();
    assertEquals(0, counters.integrityViolations());
    assertEquals(0, counters.isolationViolations());
  }

  @Test
  void aGuestBootedLargeAndBallooneddownHasLessLeftThanOneBootedSmall() {
    // Fig. 2's explanation: 512 pages ballooned by 256 against 256 pages booted.
    GuestOs big = boot(512, new GuestBoot("linux", 0, 0.0625));
    int[] out = new int[256];
    assertEquals(256, big.allocateBalloonPages(out, 256));
    int bigLeft = big.freePages();
    big.close();
    GuestOs small = boot(256, new GuestBoot("linux", 0, 0.0625));
    assertEquals(256 - 16, small.freePages());
    assertEquals(512 - 32 - 256, bigLeft);
    assertTrue(bigLeft < small.freePages(), bigLeft + " pages left against " + small.freePages());
  }

  @Test
  void bootMemoryMayNotTakeHalfOfMemory() {
    counters = new GuestCounters();
    mem = new FakePhysicalMemory(64, GuestOs.checkerFor(VM, counters));
    assertThrows(IllegalArgumentException.class, () -> new GuestOs(VM, 64, mem,
        new SwapDevice(dir.resolve("x.swap"), 8), COSTS, counters, new GuestBoot("linux", 40, 0)));
    assertThrows(IllegalArgumentException.class, () -> new GuestBoot("linux", 0, 0.5));
    assertThrows(IllegalArgumentException.class, () -> new GuestBoot("", 0, 0));
  }
}
