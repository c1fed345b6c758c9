package org.balloonlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GuestSummaryTest {
  private static final String LINE = "name=vm1 simulated_ns=2090371500 accesses=41510000 double_paging=0 mode=shadow";

  @Test
  void readsEveryCountInOrderAndSkipsNames() {
    Map<String, Long> counts = GuestSummary.counts(LINE);
    assertEquals(List.of("simulated_ns", "accesses", "double_paging"), List.copyOf(counts.keySet()));
    assertEquals(41_510_000L, counts.get("accesses"));
    assertFalse(counts.containsKey("name"));
  }

  @Test
  void oneCountOrAClearError() {
    assertEquals(2_090_371_500L, GuestSummary.count(LINE, "simulated_ns"));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> GuestSummary.count(LINE, "host_page_ins"));
    assertEquals("the guest summary has no host_page_ins: " + LINE, e.getMessage());
    assertThrows(IllegalStateException.class, () -> GuestSummary.count(LINE, "name"), "a name is not a count");
  }
}
