package org.balloonlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Page sharing with the other mechanisms, end to end (separate JVMs, {@code balloonlab run} on the lab clock, once
 * with sharing before paging and once without): three guests of one OS kind that read the same 12 MiB data set, on
 * a machine of two thirds of their memory. vm2 and vm3 have no balloon driver, so the hypervisor pages them; vm1's
 * driver balloons; vm3 is powered off at 7 s. The scanner is slow on purpose (500 pages a VM a second), so that
 * memory runs out before it has seen every page and paging meets pages whose content is in the table.
 *
 * <p>With sharing before paging the hypervisor shares such victims instead of writing them out, and writes far
 * fewer pages to host swap. In both runs, after the balloon and the power-off, the books balance: the machine's
 * shared references are exactly the pages the VMs still on map to shared frames (vm3's went with it), and free,
 * private and shared frames add up to the machine.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SharingWithPagingIT {
  private static final String SCENARIO = """
      name: sharing-with-paging-%s
      duration: 10s
      hypervisor:
        memory: 40MiB
        sample-period: 1s
        seed: 3
        sharing: {enabled: true, scan-rate: 500, share-before-paging: %s}
      guests:
        - {name: vm1, memory: 20MiB, os-kind: linux, seed: 1,
           workload: "uniform:footprint=16MiB,data-set=common,data=12MiB,rate=20000"}
        - {name: vm2, memory: 20MiB, os-kind: linux, seed: 2, balloon: disabled,
           workload: "uniform:footprint=16MiB,data-set=common,data=12MiB,rate=20000"}
        - {name: vm3, memory: 20MiB, os-kind: linux, seed: 3, balloon: disabled,
           workload: "uniform:footprint=16MiB,data-set=common,data=12MiB,rate=20000"}
      schedule:
        - {at: 7s, action: poweroff, vm: vm3}
      report: {interval: 1s, plots: false}
      """;
  private static final Duration RUN_LIMIT = Duration.ofMinutes(4);

  private LabRuns runs;
  private ObjectNode sharingFirst;
  private ObjectNode pagingOnly;

  @BeforeAll
  void runBoth() throws Exception {
    runs = new LabRuns(Path.of("target", "it-sharing-with-paging"));
    sharingFirst = run("share-first", true);
    pagingOnly = run("page-only", false);
  }

  @AfterAll
  void cleanUp() {
    runs.close();
  }

  private ObjectNode run(String name, boolean shareBeforePaging) throws Exception {
    Path scenario = runs.scenario(name, SCENARIO.formatted(name, shareBeforePaging));
    return LabRuns.report(runs.runToEnd(name, scenario, 4, RUN_LIMIT));
  }

  private static JsonNode machine(ObjectNode report) {
    return report.path("machine");
  }

  private static JsonNode state(ObjectNode report, String vm) {
    return report.path("vms").path(vm).path("last_state");
  }

  @Test
  void sharingBeforePagingWritesFewerPagesToHostSwap() {
    for (ObjectNode report : List.of(sharingFirst, pagingOnly)) {
      assertTrue(report.path("reproducible").asBoolean(), report.path("not_reproducible_because").toString());
      for (String vm : List.of("vm1", "vm2", "vm3")) {
        JsonNode summary = report.path("vms").path(vm).path("guest_summary");
        assertEquals(0, summary.path("integrity_violations").asLong(), vm + ": " + summary);
        assertEquals(0, summary.path("isolation_violations").asLong(), vm + ": " + summary);
      }
    }
    long sharedInstead = machine(sharingFirst).path("sharing").path("sharedBeforePageOut").asLong();
    assertTrue(sharedInstead > 0, "victims shared instead of written: " + machine(sharingFirst).path("sharing"));
    assertEquals(0, machine(pagingOnly).path("sharing").path("sharedBeforePageOut").asLong(),
        "without sharing before paging no victim is shared: " + machine(pagingOnly).path("sharing"));
    long withSharing = machine(sharingFirst).path("hostPageOuts").asLong();
    long without = machine(pagingOnly).path("hostPageOuts").asLong();
    assertTrue(without > 0, "the machine is overcommitted, the hypervisor pages: " + machine(pagingOnly));
    // Each victim shared is a page not written, and not read back later either: the gap is larger than the count.
    assertTrue(withSharing < without - sharedInstead, "host page-outs with sharing before paging " + withSharing
        + ", without " + without + ", victims shared instead " + sharedInstead);
  }

  @Test
  void balloonAndPowerOffLeaveTheSharingBooksBalanced() {
    for (ObjectNode report : List.of(sharingFirst, pagingOnly)) {
      assertTrue(report.path("vms").path("vm3").path("stopped_by_schedule").asBoolean(),
          "vm3 was powered off by the schedule: " + report.path("vms").path("vm3"));
      assertEquals(2, machine(report).path("poweredOnVms").asInt(), machine(report).toString());
      assertTrue(state(report, "vm1").path("balloon").path("lockedTotal").asLong() > 0,
          "vm1's driver ballooned: " + state(report, "vm1").path("balloon"));
      JsonNode sharing = machine(report).path("sharing");
      long references = 0;
      long privateFrames = 0;
      for (String vm : List.of("vm1", "vm2")) {
        long shared = state(report, vm).path("sharing").path("sharedPages").asLong();
        references += shared;
        privateFrames += state(report, vm).path("mappedPages").asLong() - shared;
      }
      long sharedFrames = sharing.path("sharedFrames").asLong();
      assertTrue(sharedFrames > 0, "pages are still shared at the end: " + sharing);
      // vm3 mapped shared frames before its power-off; none of its references may outlive it.
      assertTrue(state(report, "vm3").path("sharing").path("sharedPages").asLong() > 0,
          "vm3 shared pages before it went: " + state(report, "vm3").path("sharing"));
      assertEquals(references, sharing.path("sharedReferences").asLong(),
          "the table's references are the pages the VMs still on map to shared frames: " + sharing);
      assertEquals(references - sharedFrames, sharing.path("savedFrames").asLong(), sharing.toString());
      assertEquals(machine(report).path("machineFrames").asLong(), machine(report).path("freeFrames").asLong()
          + privateFrames + sharedFrames, "free + private + shared frames make the machine: " + machine(report));
      boolean released = false;
      for (JsonNode event : report.path("events")) {
        released |= event.path("kind").asText().equals("shared_frames_released")
            && event.path("vm").asText().equals("vm3");
      }
      assertTrue(released, "vm3's power-off released its shared frames on the event stream");
    }
  }
}
