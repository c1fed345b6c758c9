package org.balloonlab.lab.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriterTest {
  @TempDir
  Path dir;

  /** Two VMs over 10 s: vm1 steady, vm2 growing into host swap after 5 s. */
  static List<VmSample> samples() {
    List<VmSample> list = new ArrayList<>();
    for (int t = 0; t <= 10; t++) {
      list.add(new VmSample(t, "vm1", 1000, 600, 200, 300, 0, 100L * t, 50L * t, 0, 0, 0, t * 0.5, 10, "-", 1000L * t));
      long swapped = t < 5 ? 0 : 100L * (t - 5);
      list.add(new VmSample(t, "vm2", 2000, 900, 0, 0, swapped, 10L * t, 300L * t, swapped, 0, 0, t, 10, "hard", 500L * t));
    }
    return list;
  }

  @Test
  void writesJsonCsvAndTwoValidPlots() throws IOException {
    ObjectNode report = ReportWriter.newReport();
    report.putObject("scenario").put("name", "t");
    List<Path> files = ReportWriter.write(dir, report, samples(), List.of(new Plots.Marker(5, "driver vm2 disabled")),
        "t", true);
    assertEquals(4, files.size());

    JsonNode json = new ObjectMapper().readTree(dir.resolve(ReportWriter.JSON).toFile());
    assertEquals("t", json.path("scenario").path("name").asText());

    List<String> csv = Files.readAllLines(dir.resolve(ReportWriter.CSV));
    assertEquals(TimeSeriesCsv.HEADER, csv.get(0));
    assertEquals(1 + 22, csv.size(), "a header and one row per sample per VM");
    assertEquals("7.000,vm2,2000,900,0,0,200,70,2100,200,0,0,7.000000,10,hard,3500", csv.get(1 + 2 * 7 + 1));
    int columns = TimeSeriesCsv.HEADER.split(",").length;
    assertTrue(csv.stream().allMatch(l -> l.split(",", -1).length == columns));

    for (String name : List.of(ReportWriter.MEMORY_PLOT, ReportWriter.FAULTS_PLOT)) {
      BufferedImage image = ImageIO.read(dir.resolve(name).toFile());
      assertNotNull(image, name + " decodes as an image");
      assertEquals(Plots.WIDTH, image.getWidth());
      assertEquals(Plots.height(2), image.getHeight());
      assertTrue(colouredPixels(image) > 2000, name + " has plotted data, not only axes");
    }
  }

  @Test
  void theMemoryPlotStacksSwappedOverMappedWhereItHappens() throws IOException {
    Path png = dir.resolve("m.png");
    Plots.memory("t", samples(), List.of(), png);
    BufferedImage image = ImageIO.read(png.toFile());
    // vm2 is the second panel; its swapped band (red) appears only in the second half of the run.
    int panelTop = Plots.TOP + Plots.PANEL_HEIGHT;
    int width = Plots.WIDTH - Plots.LEFT - Plots.RIGHT;
    int early = countRed(image, Plots.LEFT + width / 10, panelTop, Plots.PANEL_HEIGHT - 14);
    int late = countRed(image, Plots.LEFT + width * 95 / 100, panelTop, Plots.PANEL_HEIGHT - 14);
    assertEquals(0, early, "no swapped memory before 5 s");
    assertTrue(late > 10, "swapped memory drawn at the end: " + late);
  }

  @Test
  void ratesComeFromCounterDifferences() {
    List<VmSample> vm1 = samples().stream().filter(s -> s.vm().equals("vm1")).toList();
    double[] r = Plots.rates(vm1, VmSample::guestFaults);
    assertEquals(0, r[0]);
    assertEquals(100, r[3], 1e-9);
  }

  @Test
  void noSamplesStillGivesAValidPlot() throws IOException {
    Path png = dir.resolve("empty.png");
    Plots.faultRates("t", List.of(), List.of(), png);
    assertNotNull(ImageIO.read(png.toFile()));
  }

  private static int countRed(BufferedImage image, int x, int top, int height) {
    int n = 0;
    for (int y = top; y < top + height; y++) {
      int rgb = image.getRGB(x, y) & 0xffffff;
      if (rgb == 0xc53a32) {
        n++;
      }
    }
    return n;
  }

  private static int colouredPixels(BufferedImage image) {
    int n = 0;
    for (int y = Plots.TOP; y < image.getHeight() - Plots.BOTTOM; y++) {
      for (int x = Plots.LEFT; x < Plots.WIDTH - Plots.RIGHT; x++) {
        int rgb = image.getRGB(x, y);
        int r = (rgb >> 16) & 0xff;
        int g = (rgb >> 8) & 0xff;
        int b = rgb & 0xff;
        if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 40) {
          n++;
        }
      }
    }
    return n;
  }
}
