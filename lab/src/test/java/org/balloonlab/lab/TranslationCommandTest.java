package org.balloonlab.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.balloonlab.guest.cli.GuestSummary;
import org.balloonlab.units.CommandLineConverters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class TranslationCommandTest {
  static final String NESTED = "name=nested simulated_ns=2000000000 accesses=100 true_faults=7 "
      + "integrity_violations=0 isolation_violations=0 translation=nested tlb_hits=75 tlb_misses=25 "
      + "walk_references=600 exits_pt_write=0 exits_context_switch=0 exits_guest_fault=0 exits_shadow_fill=0 "
      + "exits_p2m_fault=10 hidden_shadow_faults=0 reflected_faults=0 shadow_bytes_peak=0 tlb_flushes=0 "
      + "translation_ns=12000 untracked_translations=0";
  static final String SHADOW = NESTED.replace("name=nested", "name=shadow").replace("walk_references=600",
      "walk_references=140").replace("exits_pt_write=0", "exits_pt_write=14").replace("exits_context_switch=0",
      "exits_context_switch=3").replace("exits_guest_fault=0", "exits_guest_fault=7")
      .replace("shadow_bytes_peak=0", "shadow_bytes_peak=40960");

  @Test
  void readsTheNumbersOfASummaryLine() {
    Map<String, Long> v = GuestSummary.counts(NESTED);
    assertEquals(25L, v.get("tlb_misses"));
    assertEquals(2_000_000_000L, v.get("simulated_ns"));
    assertEquals(null, v.get("name"), "names are not numbers");
    assertEquals(10, TranslationCommand.totalExits(v));
  }

  @Test
  void rendersBothModesSideBySide() {
    String table = TranslationCommand.render(GuestSummary.counts(NESTED),
        GuestSummary.counts(SHADOW));
    assertTrue(table.lines().anyMatch(l -> l.matches("exits: page-table write\\s+0\\s+14")), table);
    assertTrue(table.lines().anyMatch(l -> l.matches("exits: total\\s+10\\s+34")), table);
    assertTrue(table.lines().anyMatch(l -> l.matches("TLB miss rate\\s+25\\.00 %\\s+25\\.00 %")), table);
    assertTrue(table.lines().anyMatch(l -> l.matches("walk references per TLB miss\\s+24\\.0\\s+5\\.6")), table);
    assertTrue(table.lines().anyMatch(l -> l.matches("shadow-table bytes \\(peak\\)\\s+0\\s+40,960 \\(40KiB\\)")),
        table);
    assertTrue(table.lines().anyMatch(l -> l.matches("simulated time\\s+2\\.000 s\\s+2\\.000 s")), table);
  }

  @Test
  void aSummaryWithoutTheTranslationCountersIsAnError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TranslationCommand.render(GuestSummary.counts("name=x accesses=1"),
            GuestSummary.counts(SHADOW)));
    assertTrue(e.getMessage().contains("exits_pt_write"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"--processes=0", "--accesses=0", "--slice=0", "--guest-memory=5000", "--timeout=0s"})
  void refusesBadOptionsBeforeStartingAnything(String option) {
    StringWriter err = new StringWriter();
    StringWriter out = new StringWriter();
    CommandLine cl = CommandLineConverters.register(new CommandLine(new TranslationCommand()));
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(out, true));
    assertEquals(2, cl.execute(option));
    assertTrue(err.toString().contains(option.substring(0, option.indexOf('='))), err.toString());
    assertTrue(out.toString().isEmpty(), out.toString());
  }
}
