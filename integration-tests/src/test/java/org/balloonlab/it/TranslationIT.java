package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.guest.cli.GuestSummary;
import org.balloonlab.lab.JvmProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The same workload and seed in a nested-paging VM and a shadow-paging VM, each guest in its own JVM, plus a
 * shadow VM with a quarter of the footprint: the data is the same and checked correct in both modes, and the
 * costs differ as the two designs say they must. Each guest powers off when its workload ends, so the counters
 * come from its summary line (the VM's final state); HypervisorServerTest covers their report over management.
 */
class TranslationIT {
  private static final String WORKLOAD = "hotset:footprint=24MiB,hot=0.2";
  private static final String SMALL_WORKLOAD = "hotset:footprint=6MiB,hot=0.2";
  private Lab lab;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void nestedAndShadowReadTheSameDataAtDifferentCosts() throws Exception {
    lab = new Lab("translation");
    // Room for every VM: the hypervisor never pages, so the VMs differ only in how they are translated.
    lab.startHypervisor("--memory", "160MiB");
    // 2 processes x 24MiB on 40MiB of guest memory: the guests page (faults, maps, unmaps) and switch. The three
    // JVMs start together; each guest ends on its own when its accesses are done.
    String[] common = {"--memory", "40MiB", "--processes", "2", "--accesses", "250000", "--seed", "5"};
    Map<String, JvmProcess> guests = new LinkedHashMap<>();
    guests.put("nested", lab.startGuest("nested", concat(common, "--workload", WORKLOAD,
        "--translation", "nested")));
    guests.put("shadow", lab.startGuest("shadow", concat(common, "--workload", WORKLOAD,
        "--translation", "shadow")));
    guests.put("shadow-small", lab.startGuest("shadow-small", concat(common, "--workload", SMALL_WORKLOAD,
        "--translation", "shadow")));

    for (JvmProcess g : guests.values()) {
      await(g.name() + " finished its workload").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
          .until(() -> !g.isAlive());
      g.stop(5, TimeUnit.SECONDS); // it has exited; this collects the end of its output
      assertEquals(0, g.process().exitValue(), g.name() + " exit code; see " + lab.logDir());
    }
    Map<String, Map<String, Long>> s = new LinkedHashMap<>();
    for (JvmProcess g : guests.values()) {
      String summary = g.lineStartingWith(GuestAgentCommand.SUMMARY);
      assertNotNull(summary, g.name() + " printed its summary");
      s.put(g.name(), parse(summary));
    }
    Map<String, Long> nested = s.get("nested");
    Map<String, Long> shadow = s.get("shadow");

    // Identical data: every read checked, none wrong, in both modes; the guests did exactly the same work.
    for (Map<String, Long> v : s.values()) {
      assertEquals(0, v.get("integrity_violations"));
      assertEquals(0, v.get("isolation_violations"));
      assertEquals(0, v.get("untracked_translations"), "every translation was announced by an event");
    }
    for (String same : List.of("accesses", "true_faults", "major_faults", "guest_page_outs", "tlb_misses",
        "tlb_hits", "exits_p2m_fault")) {
      assertEquals(nested.get(same), shadow.get(same), same + " is the same in both modes");
    }
    assertTrue(nested.get("guest_page_outs") > 0, "the guests paged, so page-table entries were removed too");

    // Shadow exits on page-table writes, context switches and guest faults; nested never does.
    assertEquals(0, nested.get("exits_pt_write"));
    assertEquals(0, nested.get("exits_context_switch"));
    assertEquals(0, nested.get("exits_guest_fault"));
    assertTrue(shadow.get("exits_pt_write") > shadow.get("true_faults"), "a map per fault, and unmaps");
    assertTrue(shadow.get("exits_context_switch") > 10, shadow.toString());
    assertEquals(shadow.get("true_faults"), shadow.get("exits_guest_fault"), "every guest fault exits first");
    assertEquals(shadow.get("true_faults"), shadow.get("reflected_faults"));

    // Nested walks more references per TLB miss: 24 against 4 (plus the guest-table walks of shadow fills).
    double nestedPerMiss = (double) nested.get("walk_references") / nested.get("tlb_misses");
    double shadowPerMiss = (double) shadow.get("walk_references") / shadow.get("tlb_misses");
    assertEquals(24.0, nestedPerMiss, 1e-9);
    assertTrue(shadowPerMiss < 8 && nestedPerMiss > 2 * shadowPerMiss, nestedPerMiss + " vs " + shadowPerMiss);

    // Shadow tables are hypervisor memory that grows with the pages the guest maps; nested has none.
    assertEquals(0, nested.get("shadow_bytes_peak"));
    assertTrue(s.get("shadow-small").get("shadow_bytes_peak") > 0);
    assertTrue(shadow.get("shadow_bytes_peak") > s.get("shadow-small").get("shadow_bytes_peak"),
        "4x the footprint takes more shadow memory: " + shadow.get("shadow_bytes_peak") + " vs "
            + s.get("shadow-small").get("shadow_bytes_peak"));
    // The costs reach the guests' clocks.
    assertTrue(shadow.get("translation_ns") > 0 && nested.get("translation_ns") > 0);
    assertEquals(nested.get("simulated_ns") - nested.get("translation_ns"),
        shadow.get("simulated_ns") - shadow.get("translation_ns"),
        "apart from translation, both guests spent the same simulated time");
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  private static Map<String, Long> parse(String summary) {
    return GuestSummary.counts(summary);
  }
}
