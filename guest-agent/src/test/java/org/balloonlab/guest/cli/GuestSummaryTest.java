package org.balloonlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.proto.MmuState;
import org.balloonlab.proto.VmCounters;
import org.balloonlab.proto.VmState;
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

  @Test
  void writesTheGuestsCountsThenTheHypervisorsWhenItAnsweredThePowerOff() {
    GuestStatus s = new GuestStatus(100, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, "idle", true);
    String guest = "BALLOONLAB_GUEST_SUMMARY name=vm1 simulated_ns=100 accesses=2 true_faults=3 major_faults=4"
        + " guest_page_outs=6 guest_page_ins=7 integrity_violations=8 isolation_violations=9";
    assertEquals(guest, GuestSummary.line("vm1", s, null, "nested"));

    VmState last = VmState.newBuilder()
        .setCounters(VmCounters.newBuilder().setHiddenFaults(21).setHostPageOuts(22).setHostPageIns(23)
            .setDoublePaging(24))
        .setMmu(MmuState.newBuilder().setTlbHits(31).setTlbMisses(32).setWalkReferences(33)
            .setExitsPageTableWrite(34).setExitsContextSwitch(35).setExitsGuestPageFault(36).setExitsShadowFill(37)
            .setExitsP2MFault(38).setHiddenShadowFaults(39).setReflectedFaults(40).setShadowTablePeakBytes(41)
            .setTlbFlushes(42).setTranslationNs(43).setUntrackedTranslations(44).setShadowTableBytes(99))
        .build();
    String line = GuestSummary.line("vm1", s, last, "shadow");
    assertEquals(guest + " hidden_faults=21 host_page_outs=22 host_page_ins=23 double_paging=24 translation=shadow"
        + " tlb_hits=31 tlb_misses=32 walk_references=33 exits_pt_write=34 exits_context_switch=35"
        + " exits_guest_fault=36 exits_shadow_fill=37 exits_p2m_fault=38 hidden_shadow_faults=39"
        + " reflected_faults=40 shadow_bytes_peak=41 tlb_flushes=42 translation_ns=43 untracked_translations=44",
        line);
    assertEquals(24L, GuestSummary.count(line, "double_paging"), "what it writes, it reads");
  }
}
