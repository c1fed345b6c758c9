package org.balloonlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.ScenarioParser;
import org.balloonlab.units.MemorySize;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Shipped experiments run end to end by {@code balloonlab experiment} (the launcher, the hypervisor and the guests
 * as separate JVMs, on the lab clock). The shortest, {@code shares-and-min}, whole: it prints the paper beside the
 * simulator and its verdict, "matches" (2:1 shares give 2:1 memory, vm3's min holds, no violation), and leaves its
 * tables, plot and result in the run folder. {@code page-sharing} reduced to three guests ({@code --vms 3}): its
 * curve from one to three identical VMs where the configuration puts it, the mixed kinds sharing their zero pages
 * alone, no violation, not judged.
 */
class ExperimentIT {
  private static final Duration RUN_LIMIT = Duration.ofMinutes(5);

  private LabRuns runs;

  @BeforeEach
  void setUp() throws Exception {
    runs = new LabRuns(Path.of("target", "it-experiment"));
  }

  @AfterEach
  void cleanUp() {
    runs.close();
  }

  @Test
  void sharesAndMinMatchesThePaper() throws Exception {
    Path dir = runs.work().resolve("run");
    JvmProcess launcher = runs.start("shares-and-min", "experiment", "shares-and-min", "--experiments",
        Path.of("..", "experiments").toString(), "--run-dir", dir.toString());
    runs.awaitChildren(launcher, 4);
    int code = runs.awaitEnd(launcher, RUN_LIMIT);
    String output = String.join("\n", launcher.lines());
    assertEquals(0, code, output);
    runs.assertNothingLeft();

    assertTrue(output.contains("BALLOONLAB_EXPERIMENT shares-and-min verdict=matches dir="), output);
    assertTrue(output.contains("vm1 : vm2 memory, shares 2000 : 1000 | 2 : 1"), output);
    for (String file : List.of("comparison.csv", "comparison.md", "vms.csv", "plot.png", "result.md")) {
      assertTrue(Files.size(dir.resolve(file)) > 0, file);
    }
    assertTrue(ImageIO.read(dir.resolve("plot.png").toFile()) != null, "plot.png is a PNG");
    List<String> csv = Files.readAllLines(dir.resolve("comparison.csv"));
    assertEquals("quantity,paper,BalloonLab,unit,metric", csv.get(0));
    String shareRow = csv.stream().filter(l -> l.endsWith(",share_ratio")).findFirst().orElseThrow();
    // quantity,paper,BalloonLab,unit,metric: the quantity may hold a quoted comma, so count from the end.
    String[] cells = shareRow.split(",");
    double ratio = Double.parseDouble(cells[cells.length - 3]);
    assertTrue(ratio >= 1.9 && ratio <= 2.1, shareRow);
    assertTrue(Files.readString(dir.resolve("result.md")).contains("**Verdict: matches**"));

    ObjectNode report = LabRuns.report(dir.resolve("lab"));
    assertTrue(report.path("reproducible").asBoolean(), report.path("not_reproducible_because").toString());
    for (String vm : List.of("vm1", "vm2", "vm3")) {
      assertEquals(0, report.path("vms").path(vm).path("guest_summary").path("integrity_violations").asLong(), vm);
      assertEquals(0, report.path("vms").path(vm).path("guest_summary").path("isolation_violations").asLong(), vm);
    }
  }

  /** A size the guest's workload names ({@code zero=1MiB}), in pages; 0 if it names none. */
  private static double workloadPages(GuestSpec g, String key) {
    Matcher m = Pattern.compile("(?:^|[:,])" + key + "=([^,]+)").matcher(g.workloads().get(0));
    return m.find() ? MemorySize.parse(m.group(1)).bytes() / 4096.0 : 0;
  }

  /** Cell {@code column} of each data row of a CSV whose data rows hold no quoted commas. */
  private static double[] column(Path csv, int column) throws Exception {
    List<String> lines = Files.readAllLines(csv);
    return lines.subList(1, lines.size()).stream().mapToDouble(l -> Double.parseDouble(l.split(",")[column]))
        .toArray();
  }

  /** BalloonLab's value of one metric in {@code comparison.csv}. */
  private static double compared(Path dir, String metric) throws Exception {
    String row = Files.readAllLines(dir.resolve("comparison.csv")).stream().filter(l -> l.endsWith("," + metric))
        .findFirst().orElseThrow();
    String[] cells = row.split(","); // the quantity may hold a quoted comma, so count from the end
    return Double.parseDouble(cells[cells.length - 3]);
  }

  @Test
  void pageSharingReducedToThreeVmsFollowsItsConfiguration() throws Exception {
    Path dir = runs.work().resolve("page-sharing");
    JvmProcess launcher = runs.start("page-sharing", "experiment", "page-sharing", "--vms", "3", "--experiments",
        Path.of("..", "experiments").toString(), "--run-dir", dir.toString());
    runs.awaitChildren(launcher, 2); // the hypervisor and vm1; the series starts the others on the lab clock
    int code = runs.awaitEnd(launcher, RUN_LIMIT);
    String output = String.join("\n", launcher.lines());
    assertEquals(0, code, output);
    runs.assertNothingLeft();
    assertTrue(output.contains("BALLOONLAB_EXPERIMENT page-sharing verdict=not_judged dir="), output);

    // What the configuration makes shareable, from the series' own scenario: each guest maps its OS image (an
    // eighth of its memory, the guest's default, identical in every guest of the kind), its boot structures
    // (1/64 of its memory, private) and its workload's footprint, of which the data set is identical in every
    // guest and the zero-filled region is zero pages (one frame for all, even in one VM).
    GuestSpec g = ScenarioParser.parse(Path.of("..", "experiments", "page-sharing", "series.yaml")).guests().get(0);
    double memory = g.memory().bytes() / 4096.0;
    double mapped = memory / 8 + memory / 64 + workloadPages(g, "footprint");
    double identical = memory / 8 + workloadPages(g, "data");
    double zero = workloadPages(g, "zero");
    assertTrue(identical > 0 && zero > 0, "the series has content to share");

    double[] vms = column(dir.resolve("series.csv"), 0);
    double[] shared = column(dir.resolve("series.csv"), 5);
    double[] reclaimed = column(dir.resolve("series.csv"), 7);
    assertEquals(3, vms.length, "one point per VM");
    for (int i = 0; i < vms.length; i++) {
      int n = (int) vms[i];
      assertEquals(i + 1, n);
      double wantShared = 100 * (n == 1 ? zero : identical + zero) / mapped;
      double wantReclaimed = 100 * (n * zero - 1 + (n - 1) * identical) / (n * mapped);
      assertEquals(wantShared, shared[i], 2, n + " VM(s): shared %");
      assertEquals(wantReclaimed, reclaimed[i], 2, n + " VM(s): reclaimed %");
    }
    assertTrue(reclaimed[0] < reclaimed[1] && reclaimed[1] < reclaimed[2], "reclaimed grows with every VM");
    // Three guests of three kinds with private data share their zero pages alone.
    assertEquals(100 * zero / mapped, compared(dir, "mixed_shared_pct"), 2);
    assertEquals(100 * zero / mapped, compared(dir, "mixed_reclaimed_pct"), 2);
    assertEquals(0, compared(dir, "violations"));
    assertTrue(compared(dir, "table_pct") <= 0.5);

    for (String file : List.of("comparison.csv", "comparison.md", "series.csv", "sharing.csv", "plot.png",
        "plot-mib.png", "plot-time.png", "result.md")) {
      assertTrue(Files.size(dir.resolve(file)) > 0, file);
    }
    assertTrue(ImageIO.read(dir.resolve("plot.png").toFile()) != null, "plot.png is a PNG");
    assertTrue(Files.readString(dir.resolve("result.md")).contains("**Verdict: not judged (a reduced run)**"));
    for (String run : List.of("series", "mixed")) {
      ObjectNode report = LabRuns.report(dir.resolve(run));
      assertTrue(report.path("reproducible").asBoolean(), run + ": " + report.path("not_reproducible_because"));
      assertEquals(3, report.path("vms").size(), run);
      report.path("vms").fields().forEachRemaining(e -> {
        JsonNode summary = e.getValue().path("guest_summary");
        assertTrue(summary.has("integrity_violations"), e.getKey() + " printed its summary");
        assertEquals(0, summary.path("integrity_violations").asLong(), e.getKey());
        assertEquals(0, summary.path("isolation_violations").asLong(), e.getKey());
      });
    }
  }
}
