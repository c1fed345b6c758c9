package org.balloonlab.hypervisor.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DiskProfileTest {
  @Test
  void ssdIsTodaysDefaultModel() {
    assertEquals(CostModel.DEFAULT, DiskProfile.SSD.applyTo(CostModel.DEFAULT));
  }

  @Test
  void disk2002ChargesMillisecondsToBothSwaps() {
    CostModel m = DiskProfile.of("disk-2002").applyTo(CostModel.DEFAULT);
    assertEquals(8_000_000, m.guestSwapReadNs());
    assertEquals(8_000_000, m.guestSwapWriteNs());
    assertEquals(8_000_000, m.hostSwapReadNs());
    assertEquals(8_000_000, m.hostSwapWriteNs());
    assertEquals(CostModel.DEFAULT.hiddenFaultNs(), m.hiddenFaultNs(), "only the disk changes");
    assertEquals(List.of("ssd", "disk-2002"), DiskProfile.labels());
    assertEquals(DiskProfile.DISK_2002, DiskProfile.of(" Disk-2002 "));
  }

  @Test
  void anUnknownProfileIsRefusedNamingTheKnownOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiskProfile.of("floppy"));
    assertTrue(e.getMessage().contains("'floppy'") && e.getMessage().contains("ssd, disk-2002"), e.getMessage());
    String huge = "x".repeat(10_000);
    e = assertThrows(IllegalArgumentException.class, () -> DiskProfile.of(huge));
    assertFalse(e.getMessage().contains(huge), "an unbounded name is not echoed");
    assertThrows(IllegalArgumentException.class, () -> DiskProfile.of(null));
  }
}
