package org.balloonlab.hypervisor.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RadixTableTest {

  @Test
  void putGetRemove() {
    RadixTable t = new RadixTable();
    assertEquals(-1, t.get(12345));
    assertEquals(-1, t.put(12345, 0), "0 is a value like any other");
    assertEquals(0, t.get(12345));
    assertEquals(0, t.put(12345, 99));
    assertEquals(99, t.get(12345));
    assertEquals(1, t.entries());
    assertEquals(99, t.remove(12345));
    assertEquals(-1, t.remove(12345));
    assertEquals(-1, t.get(12345));
    assertEquals(0, t.entries());
    t.put(RadixTable.MAX_VPN, 5);
    assertEquals(5, t.get(RadixTable.MAX_VPN));
    assertThrows(IllegalArgumentException.class, () -> t.put(1, -1));
  }

  @Test
  void tablePagesAreThoseOfAFourLevelTable() {
    RadixTable t = new RadixTable();
    assertEquals(1, t.tablePages(), "an empty table is its root");
    t.put(0, 1);
    assertEquals(4, t.tablePages(), "root, PDPT, PD, PT");
    for (int vpn = 1; vpn < 512; vpn++) {
      t.put(vpn, vpn);
    }
    assertEquals(4, t.tablePages(), "one leaf holds 512 entries");
    t.put(512, 1);
    assertEquals(5, t.tablePages(), "a second leaf under the same PD");
    t.put(1 << 18, 1);
    assertEquals(7, t.tablePages(), "a new PD and its leaf");
    t.put(1 << 27, 1);
    assertEquals(10, t.tablePages(), "a new PDPT, PD and leaf");
    t.remove(1 << 27);
    assertEquals(10, t.tablePages(), "pages stay until the table goes");
  }

  @Test
  void visitsEveryEntryInOrder() {
    RadixTable t = new RadixTable();
    int[] vpns = {7, 600, 1 << 20, (1 << 27) + 3};
    for (int i = vpns.length - 1; i >= 0; i--) {
      t.put(vpns[i], i);
    }
    List<int[]> seen = new ArrayList<>();
    t.forEach((vpn, value) -> seen.add(new int[] {vpn, value}));
    assertEquals(vpns.length, seen.size());
    for (int i = 0; i < vpns.length; i++) {
      assertEquals(vpns[i], seen.get(i)[0]);
      assertEquals(i, seen.get(i)[1]);
    }
  }
}
