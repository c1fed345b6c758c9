package org.balloonlab.guest.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.balloonlab.swap.SwapDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Identical content: OS images by os_kind, data sets by name, and the oracle over both. */
class ContentImageTest {
  static final GuestCosts COSTS = new GuestCosts(7, 1_000, 30_000, 50_000);

  @TempDir
  Path dir;

  private GuestOs guest(int vm, String kind, GuestCounters counters, FakePhysicalMemory mem) {
    GuestOs os = new GuestOs(vm, 256, mem, new SwapDevice(dir.resolve("vm" + vm + ".swap"), 512), COSTS, counters,
        new GuestBoot(kind, 8, BootStructures.DEFAULT_RATIO));
    os.boot();
    return os;
  }

  @Test
  void imagePagesAreEqualAcrossVmsOfOneKindAndDifferAcrossKinds() {
    GuestCounters c1 = new GuestCounters();
    GuestCounters c2 = new GuestCounters();
    GuestCounters c3 = new GuestCounters();
    FakePhysicalMemory m1 = new FakePhysicalMemory(256, GuestOs.checkerFor(1, c1));
    FakePhysicalMemory m2 = new FakePhysicalMemory(256, GuestOs.checkerFor(2, c2));
    FakePhysicalMemory m3 = new FakePhysicalMemory(256, GuestOs.checkerFor(3, c3));
    try (GuestOs a = guest(1, "linux", c1, m1); GuestOs b = guest(2, "linux", c2, m2);
         GuestOs w = guest(3, "windows", c3, m3)) {
      int boot = BootStructures.pagesFor(256, BootStructures.DEFAULT_RATIO);
      for (int i = 0; i < 8; i++) {
        long t = m1.peek(boot + i);
        assertEquals(t, m2.peek(boot + i), "image page " + i + " of two linux VMs");
        assertNotEquals(t, m3.peek(boot + i), "image page " + i + " of linux and windows");
        assertNotEquals(0L, t);
        assertEquals(Token.KIND_OS_IMAGE, Token.kind(t));
        assertFalse(Token.belongsToAnotherVm(t, 2), "shared content belongs to no VM");
      }
      // Boot structures are each VM's own.
      assertNotEquals(m1.peek(0), m2.peek(0));
      assertTrue(Token.belongsToAnotherVm(m1.peek(0), 2));
      assertFalse(Token.belongsToAnotherVm(m1.peek(0), 1));
      a.verifyAll();
      b.verifyAll();
      w.verifyAll();
      assertEquals(0, c1.integrityViolations() + c2.integrityViolations() + c3.integrityViolations());
    }
  }

  @Test
  void theOracleCatchesAWrongReadOfAnImagePage() {
    GuestCounters c = new GuestCounters();
    FakePhysicalMemory m = new FakePhysicalMemory(256, GuestOs.checkerFor(1, c));
    try (GuestOs os = guest(1, "linux", c, m)) {
      int boot = BootStructures.pagesFor(256, BootStructures.DEFAULT_RATIO);
      os.readImagePage(3);
      assertEquals(0, c.integrityViolations());
      // A hypervisor that hands back another kind's page (a sharing bug) is caught.
      m.corrupt((pfn, stored) -> pfn == boot + 3 ? ContentImage.imageToken("windows", 3) : stored);
      os.readImagePage(3);
      assertEquals(1, c.integrityViolations());
      assertEquals(0, c.isolationViolations(), "shared content is no other VM's");
      os.verifyAll();
      assertEquals(2, c.integrityViolations(), "the audit reads image pages too");
    }
  }

  @Test
  void dataSetPagesAreSharedContentUntilWritten() {
    GuestCounters c1 = new GuestCounters();
    GuestCounters c2 = new GuestCounters();
    FakePhysicalMemory m1 = new FakePhysicalMemory(256, GuestOs.checkerFor(1, c1));
    FakePhysicalMemory m2 = new FakePhysicalMemory(256, GuestOs.checkerFor(2, c2));
    try (GuestOs a = guest(1, "linux", c1, m1); GuestOs b = guest(2, "linux", c2, m2)) {
      GuestProcess pa = a.spawn("a", 64);
      GuestProcess pb = b.spawn("b", 64);
      a.attachDataSet(pa, "census", 16);
      b.attachDataSet(pb, "census", 16);
      a.access(pa, 5, false);
      b.access(pb, 5, false);
      long ta = m1.peek(pa.pageTable[5]);
      assertEquals(ContentImage.dataSetToken(Token.hashName("census"), 5), ta);
      assertEquals(ta, m2.peek(pb.pageTable[5]), "the same set in two VMs");
      assertEquals(1, c1.dataSetFills());
      a.access(pa, 20, false);
      assertEquals(0L, m1.peek(pa.pageTable[20]), "outside the set: zeroes");
      // A write makes the page private, and reads still check.
      a.access(pa, 5, true);
      assertEquals(Token.of(1, pa.asid(), 5, 1), m1.peek(pa.pageTable[5]));
      a.access(pa, 5, false);
      a.verifyAll();
      b.verifyAll();
      assertEquals(0, c1.integrityViolations() + c2.integrityViolations());
      m2.corrupt((pfn, stored) -> 0L);
      b.access(pb, 5, false);
      assertEquals(1, c2.integrityViolations(), "a data set page read back as zeroes");
    }
  }

  @Test
  void aDroppedDataSetPageIsReadAgainFromDisk() {
    GuestCounters c = new GuestCounters();
    FakePhysicalMemory m = new FakePhysicalMemory(256, GuestOs.checkerFor(1, c));
    try (GuestOs os = guest(1, "linux", c, m)) {
      GuestProcess p = os.spawn("p", 1024);
      os.attachDataSet(p, "census", 512);
      for (int round = 0; round < 2; round++) {
        for (int vpn = 0; vpn < 1024; vpn++) {
          os.access(p, vpn, vpn >= 512);
        }
      }
      assertTrue(c.zeroPagesDropped() > 0, "clean data set pages were dropped");
      assertTrue(c.dataSetFills() > 512, "and filled again: " + c.dataSetFills());
      os.verifyAll();
      assertEquals(0, c.integrityViolations());
      assertEquals(0, c.isolationViolations());
    }
  }
}
