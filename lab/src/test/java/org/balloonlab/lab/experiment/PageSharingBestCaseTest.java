package org.balloonlab.lab.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.units.MemorySize;
import org.junit.jupiter.api.Test;

/** What the page-sharing experiment counts as identical by configuration. */
class PageSharingBestCaseTest {

  private static GuestSpec guest(String name, String osKind, String workload) {
    return new GuestSpec(name, MemorySize.parse("10MiB"), null, null, null, List.of(workload), null, null, null,
        true, null, null, null, null, osKind, null, null);
  }

  /** A report whose guests each booted 320 image pages and filled 1024 data-set pages. */
  private static RunResult run(String... vms) {
    ObjectNode report = JsonNodeFactory.instance.objectNode();
    ObjectNode v = report.putObject("vms");
    for (String vm : vms) {
      v.putObject(vm).putObject("guest_summary").put("image_pages", 320).put("data_set_fills", 1024);
    }
    return new RunResult("r", Path.of("."), report, List.of(), 0);
  }

  @Test
  void zeroRegionsCountPerProcess() {
    assertEquals(256, PageSharingBestCase.zeroPages(guest("a", null, "uniform:footprint=8MiB,zero=1MiB")));
    assertEquals(0, PageSharingBestCase.zeroPages(guest("a", null, "uniform:footprint=8MiB,data=1MiB")));
  }

  @Test
  void imageAndDataSetCountOnlyWhenAnotherGuestHoldsTheSame() {
    String shared = "uniform:footprint=8MiB,data-set=spec,data=4MiB,zero=1MiB";
    List<GuestSpec> same = List.of(guest("a", null, shared), guest("b", "linux", shared));
    assertEquals(2 * (320 + 1024 + 256), PageSharingBestCase.identicalPages(same, run("a", "b")));

    List<GuestSpec> mixed = List.of(guest("a", "linux", "uniform:footprint=8MiB,data-set=x,data=4MiB,zero=1MiB"),
        guest("b", "windows", "uniform:footprint=8MiB,data-set=y,data=4MiB,zero=1MiB"));
    assertEquals(2 * 256, PageSharingBestCase.identicalPages(mixed, run("a", "b")));
  }
}
