package org.balloonlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.imageio.ImageIO;
import org.balloonlab.lab.JvmProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The shortest shipped experiment, {@code shares-and-min}, run end to end by {@code balloonlab experiment} (the
 * launcher, the hypervisor and three guests as separate JVMs, on the lab clock): it prints the paper beside the
 * simulator and its verdict, "matches" (2:1 shares give 2:1 memory, vm3's min holds, no violation), and leaves its
 * tables, plot and result in the run folder.
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
}
