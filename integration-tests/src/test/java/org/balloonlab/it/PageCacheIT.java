package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.guest.cli.GuestSummary;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The guest's page cache under a balloon, with the hypervisor and the guest in separate JVMs: a files workload fills
 * the guest's memory with file pages, the balloon inflates, and the guest gives up cache pages (writing dirty ones
 * back) rather than paging its processes out; every read stays correct.
 */
class PageCacheIT {
  private static final int MIB = 256; // pages
  private Lab lab;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void aBalloonTakesPageCacheBeforeProcessMemory() throws Exception {
    lab = new Lab("page-cache");
    lab.startHypervisor("--policy", "manual", "--memory", "256MiB");
    JvmProcess guest = lab.startReadyGuest("db", "--memory", "64MiB", "--workload",
        "files:files=96MiB,footprint=8MiB,file-share=0.8,writes=0.3,hot=0.5,hot-share=0.6", "--duration", "1h");
    await("the page cache fills the guest's memory").atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> lab.vm("db").getMappedPages() >= 60 * MIB);

    int target = 24 * MIB;
    lab.setBalloonTarget("db", target);
    await("balloon at target").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.vm("db").getBalloon().getSizePages() == target);
    long accesses = lab.vm("db").getCounters().getAccesses();
    await("the workload goes on under the balloon").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> lab.vm("db").getCounters().getAccesses() > accesses + 200_000);
    VmState vm = lab.vm("db");
    assertEquals(0, vm.getCounters().getBalloonFaults(), "the guest never touched a page it gave away");

    guest.stop(60, TimeUnit.SECONDS);
    String summary = guest.lineStartingWith(GuestAgentCommand.SUMMARY);
    assertNotNull(summary, "the guest printed its summary");
    assertEquals(0, GuestSummary.count(summary, "integrity_violations"), summary);
    assertEquals(0, GuestSummary.count(summary, "isolation_violations"), summary);
    assertEquals(256, GuestSummary.count(summary, "boot_pages"), "64 bytes per page of 64MiB: 1MiB");
    assertEquals(8 * MIB, GuestSummary.count(summary, "image_pages"), "an eighth of 64MiB, under the 16MiB default");
    assertTrue(GuestSummary.count(summary, "cache_drops") > 0, summary);
    assertTrue(GuestSummary.count(summary, "cache_writebacks") > 0, summary);
    assertTrue(GuestSummary.count(summary, "cache_misses") > 0, summary);
    assertTrue(GuestSummary.count(summary, "cache_hits") > 0, summary);
    assertEquals(0, GuestSummary.count(summary, "guest_page_outs"),
        "the cache was given up first, and it sufficed: no process page went to swap");
    assertTrue(GuestSummary.count(summary, "file_ops_per_sim_s") > 0, summary);
  }
}
