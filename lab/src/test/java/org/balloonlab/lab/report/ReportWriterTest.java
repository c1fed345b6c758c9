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
      list.add(new VmSample(t, "vm1", 1000, 600, 200, 300, 0, 100L * t, 50L * t, 0, 0, 0, t * 0.5, 10, "-", 1000L * t,
          40L * t));
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
    assertEquals("7.000,vm2,2000,900,0,0,200,70,2100,200,0,0,7.000000,10,hard,3500,0", csv.get(1 + 2 * 7 + 1));
    assertTrue(csv.get(1 + 2 * 7).endsWith(",7000,280"), "vm1's shared pages are the last column: " + csv.get(15));
    int columns = TimeSeriesCsv.HEADER.split(",").length;
    assertTrue(csv.stream().allMatch(l -> l.split(",", -1).length == columns));

    for (String name : List.of(ReportWriter.MEMORY_PLOT, ReportWriter.FAULTS_PLOT)) {
      BufferedImage image = ImageIO.read(dir.resolve(name).toFile());
      assertNotNull(image, name + " decodes as an image");
      assertEquals(Plots.WIDTH, image.getWidth(), "two VMs: one column");
      int machinePanels = name.equals(ReportWriter.MEMORY_PLOT) ? 2 : 0;
      assertEquals(Plots.height(2, machinePanels), image.getHeight());
      assertTrue(colouredPixels(image) > 2000, name + " has plotted data, not only axes");
    }
  }

  @Test
  void theMemoryPlotStacksSwappedOverMappedWhereItHappens() throws IOException {
    Path png = dir.resolve("m.png");
    Plots.memory("t", samples(), List.of(), png);
    BufferedImage image = ImageIO.read(png.toFile());
    // vm2 is the second VM panel; its swapped band (red) appears only in the second half of the run; so does the
    // machine's, in the by-kind panel (the second machine panel).
    PlotLayout layout = PlotLayout.of(2, 2);
    for (PlotLayout.Rect r : List.of(layout.vmPanel(1), layout.machinePanel(1))) {
      int early = countRed(image, r.left() + r.width() / 10, r.top(), r.height());
      int late = countRed(image, r.left() + r.width() * 95 / 100, r.top(), r.height());
      assertEquals(0, early, "no swapped memory before 5 s");
      assertTrue(late > 10, "swapped memory drawn at the end: " + late);
    }
    PlotLayout.Rect vm1 = layout.vmPanel(0);
    assertEquals(0, countRed(image, vm1.left() + vm1.width() * 95 / 100, vm1.top(), vm1.height()), "vm1 swaps not");
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

  /** Sixteen VMs named vm1..vm16, each with the same steady memory. */
  static List<VmSample> manyVms(int n) {
    List<VmSample> list = new ArrayList<>();
    for (int t = 0; t <= 4; t++) {
      for (int v = n; v >= 1; v--) {
        list.add(new VmSample(t, "vm" + v, 1000, 500, 100, 100, v == 10 ? 50 : 0, 0, 0, 0, 0, 0, t, 2000, "high", 0));
      }
    }
    return list;
  }

  @Test
  void manyVmsMakeAGridInNaturalOrderUnderTheMachinePanels() throws IOException {
    List<VmSample> samples = manyVms(16);
    assertEquals(List.of("vm1", "vm2", "vm3", "vm4", "vm5", "vm6", "vm7", "vm8", "vm9", "vm10", "vm11", "vm12",
        "vm13", "vm14", "vm15", "vm16"), List.copyOf(Plots.byVm(samples).keySet()));
    Path png = dir.resolve("many.png");
    Plots.memory("t", samples, List.of(new Plots.Marker(2, "mark")), png);
    BufferedImage image = ImageIO.read(png.toFile());
    PlotLayout layout = PlotLayout.of(16, 2);
    assertEquals(4, layout.columns());
    assertEquals(layout.width(), image.getWidth());
    assertEquals(layout.height(), image.getHeight());
    assertTrue(image.getHeight() < Plots.TOP + 8 * Plots.PANEL_HEIGHT, "4 rows and 2 machine panels, not 16 rows: "
        + image.getHeight());
    // vm10, tenth in natural order, is the second panel of the third row: only it has host-swapped memory.
    PlotLayout.Rect vm10 = layout.vmPanel(9);
    assertEquals(layout.vmPanel(8).top(), vm10.top());
    assertTrue(vm10.left() > layout.vmPanel(8).left());
    assertTrue(countRed(image, vm10.left() + vm10.width() / 2, vm10.top(), vm10.height()) > 0, "vm10's swap");
    for (int i : new int[] {0, 1, 8, 10, 15}) {
      PlotLayout.Rect r = layout.vmPanel(i);
      assertEquals(0, countRed(image, r.left() + r.width() / 2, r.top(), r.height()), "panel " + i);
    }
  }

  @Test
  void theMachinePanelsAddUpTheVms() {
    MachineMemory.Totals t = MachineMemory.totals(Plots.byVm(samples()));
    assertEquals(11, t.seconds().length);
    assertEquals(600 + 900, t.mapped()[10]);
    assertEquals(200, t.ballooned()[10]);
    assertEquals(500, t.swapped()[10], "vm2 swapped 100 pages a second after 5 s");
    assertEquals(3000, t.configured()[0]);
    assertEquals(600, t.mappedByVm()[0][3], "vm1 first, in natural order");
    assertEquals(10, t.free()[3]);
  }
}
