package org.balloonlab.lab.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultTableTest {
  @TempDir
  Path dir;

  private static final ResultTable TABLE = new ResultTable("t", "A table", List.of("quantity", "paper", "sim"),
      List.of(List.of("vm1 : vm2", "2 : 1", "1.99"), List.of("a, b", "say \"x\"", "a|b")));

  @Test
  void numbersArePrintedShort() {
    assertEquals("2", ResultTable.number(2.0));
    assertEquals("1.995", ResultTable.number(1.99499));
    assertEquals("0.1", ResultTable.number(0.1));
    assertEquals("-3.5", ResultTable.number(-3.5));
    assertEquals("0", ResultTable.number(-0.0001));
    assertEquals("-", ResultTable.number(Double.NaN));
    assertEquals("-", ResultTable.number(Double.POSITIVE_INFINITY));
  }

  @Test
  void csvQuotesWhatNeedsIt() {
    assertEquals("quantity,paper,sim\r\nvm1 : vm2,2 : 1,1.99\r\n\"a, b\",\"say \"\"x\"\"\",a|b\r\n", TABLE.csv());
  }

  @Test
  void markdownEscapesPipes() {
    assertEquals("| quantity | paper | sim |\n|---|---|---|\n| vm1 : vm2 | 2 : 1 | 1.99 |\n"
        + "| a, b | say \"x\" | a\\|b |\n", TABLE.markdown());
  }

  @Test
  void textAlignsColumns() {
    List<String> lines = TABLE.text().lines().toList();
    assertEquals(4, lines.size());
    assertEquals("quantity  | paper   | sim", lines.get(0));
    assertEquals("vm1 : vm2 | 2 : 1   | 1.99", lines.get(2));
  }

  @Test
  void aRowMustBeAsWideAsTheHeader() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ResultTable("t", "x", List.of("a", "b"), List.of(List.of("1"))));
    assertTrue(e.getMessage().contains("1 cells under 2 columns"), e.getMessage());
  }

  @Test
  void theComparisonSetsThePaperBesideTheMetric() {
    ExperimentDefinition def = new ExperimentDefinition("x", dir, "X", "p", "", List.of(),
        List.of(new ExperimentDefinition.Row("split", "1", "split", ""),
            new ExperimentDefinition.Row("memory", "179 MB", "mib", "MiB")), List.of(), List.of());
    ResultTable c = ExperimentRunner.comparison(def, Map.of("split", 1.0049, "mib", Double.NaN));
    assertEquals(List.of(List.of("split", "1", "1.005", "", "split"), List.of("memory", "179 MB", "-", "MiB", "mib")),
        c.rows());
  }

  @Test
  void chartTicksAreRound() {
    assertEquals(10, ExperimentChart.step(50));
    assertEquals(20, ExperimentChart.step(66));
    assertEquals(50, ExperimentChart.step(240));
    assertEquals(0.5, ExperimentChart.step(2.3));
    assertEquals(1, ExperimentChart.step(0));
    assertEquals(1, ExperimentChart.step(Double.NaN));
  }

  @Test
  void theChartIsAPng() throws Exception {
    Path png = dir.resolve("plot.png");
    new ExperimentChart("t", "x", "y", List.of(new ExperimentChart.Series("a", new double[] {0, 1, 2},
        new double[] {1, Double.NaN, 3})), List.of(new ExperimentChart.Mark(1, "m"))).write(png);
    assertEquals(ExperimentChart.WIDTH, ImageIO.read(png.toFile()).getWidth());
    assertTrue(Files.size(png) > 0);
  }
}
