package org.balloonlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 13 item 2, end to end (separate JVMs, {@code balloonlab run} once per disk profile): the hypervisor's
 * paging is charged to the VM whose pages it moves, and the disk profile decides how much. A VM without a balloon
 * driver grows past its allocation on an overcommitted machine, so the hypervisor pages it; the same lab run with
 * the 2002-era disk charges it far more host-disk time than with the SSD, and in the same lab time its workload
 * gets fewer accesses done. The other VM, ballooned, is charged no host-disk time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostDiskCostIT {
  private static final String SCENARIO = """
      name: host-disk-cost-%s
      duration: 10s
      hypervisor:
        memory: 32MiB
        disk-profile: %s
        sample-period: 1s
        balloon-stall-timeout: 1s
        seed: 3
      guests:
        - name: unballooned
          memory: 24MiB
          workload: {type: uniform, footprint: 20MiB, rate: 20000}
          balloon: disabled
          seed: 5
        - name: ballooned
          memory: 24MiB
          workload: {type: uniform, footprint: 16MiB, rate: 20000}
          seed: 6
      report: {interval: 1s, plots: false}
      """;
  private static final Duration RUN_LIMIT = Duration.ofMinutes(4);

  private LabRuns runs;
  private ObjectNode ssd;
  private ObjectNode disk2002;

  @BeforeAll
  void runBoth() throws Exception {
    runs = new LabRuns(Path.of("target", "it-host-disk-cost"));
    ssd = run("ssd");
    disk2002 = run("disk-2002");
  }

  @AfterAll
  void cleanUp() {
    runs.close();
  }

  private ObjectNode run(String profile) throws Exception {
    Path scenario = runs.scenario("host-disk-cost-" + profile, SCENARIO.formatted(profile, profile));
    Path dir = runs.runToEnd(profile, scenario, 3, RUN_LIMIT);
    return LabRuns.report(dir);
  }

  private static JsonNode vm(ObjectNode report, String name) {
    return report.path("vms").path(name);
  }

  private static long diskWaitNs(ObjectNode report, String name) {
    return vm(report, name).path("last_state").path("reclamation").path("hostDiskWaitNs").asLong();
  }

  /** The hypervisor time charged to the unballooned VM per page moved between memory and host swap. */
  private static double hypervisorNsPerPageMoved(ObjectNode report) {
    JsonNode c = vm(report, "unballooned").path("last_state").path("counters");
    long moved = c.path("hostPageOuts").asLong() + c.path("hostPageIns").asLong();
    assertTrue(moved > 0, "pages moved: " + c);
    return (double) c.path("hypervisorNs").asLong() / moved;
  }

  @Test
  void theHypervisorsPagingIsChargedToItsVictimByTheLabsDisk() {
    for (ObjectNode report : new ObjectNode[] {ssd, disk2002}) {
      assertTrue(report.path("reproducible").asBoolean(), report.path("not_reproducible_because").toString());
      assertTrue(vm(report, "unballooned").path("last_state").path("counters").path("hostPageOuts").asLong() > 0,
          "the VM without a driver was paged: " + vm(report, "unballooned").path("last_state").path("counters"));
      for (String name : new String[] {"unballooned", "ballooned"}) {
        JsonNode summary = vm(report, name).path("guest_summary");
        assertEquals(0, summary.path("integrity_violations").asLong(), name + ": " + summary);
        assertEquals(0, summary.path("isolation_violations").asLong(), name + ": " + summary);
      }
    }
    // The policy's page-outs of the VM used to be charged to no one; now its batches wait for the disk.
    assertTrue(diskWaitNs(ssd, "unballooned") > 0, "the paged VM waited for the host swap disk");
    assertTrue(diskWaitNs(disk2002, "unballooned") > 0, "the paged VM waited for the host swap disk");
    // Per page the hypervisor moved, the VM is charged the profile's disk: 0.1 ms on the SSD, 8 ms in 2002.
    double ssdPerPage = hypervisorNsPerPageMoved(ssd);
    double oldPerPage = hypervisorNsPerPageMoved(disk2002);
    assertTrue(ssdPerPage >= 50_000, "of the order of an SSD page (0.1 ms) a page moved: " + ssdPerPage + " ns");
    assertTrue(oldPerPage > 20 * ssdPerPage, "the 2002-era disk costs its VM far more per page than the SSD: "
        + oldPerPage + " against " + ssdPerPage + " ns");
    long ssdAccesses = vm(ssd, "unballooned").path("guest_summary").path("accesses").asLong();
    long oldAccesses = vm(disk2002, "unballooned").path("guest_summary").path("accesses").asLong();
    assertTrue(oldAccesses < ssdAccesses, "in the same lab time the VM on the slow disk did less: " + oldAccesses
        + " against " + ssdAccesses + " accesses");
  }
}
