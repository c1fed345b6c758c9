package org.balloonlab.lab.experiment;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * An experiment's plot: lines with points, each series one colour, on shared axes from zero, with optional
 * vertical marks (a change of tau); drawn headless with Java2D into a PNG, as the run reports' plots are.
 *
 * @param title above the plot
 * @param xLabel the horizontal axis
 * @param yLabel the vertical axis
 * @param series the lines
 * @param marks vertical marks at x values, with a label each
 */
public record ExperimentChart(String title, String xLabel, String yLabel, List<Series> series, List<Mark> marks) {

  /** One line: points {@code (x[i], y[i])}; a NaN y leaves a gap. */
  public record Series(String name, double[] x, double[] y) {
    public Series {
      if (x.length != y.length) {
        throw new IllegalArgumentException("series " + name + ": " + x.length + " x values, " + y.length + " y");
      }
    }
  }

  /** A vertical mark. */
  public record Mark(double x, String label) {
  }

  static final int WIDTH = 900;
  static final int HEIGHT = 500;
  private static final int LEFT = 80;
  private static final int RIGHT = 190;
  private static final int TOP = 50;
  private static final int BOTTOM = 55;
  private static final Color[] COLORS = {new Color(0x3b75af), new Color(0xef8636), new Color(0x519e3e),
      new Color(0xc53a32), new Color(0x8d69b8), new Color(0x84584e), new Color(0xd57fbe), new Color(0x7f7f7f)};

  /** A round step (1, 2, 2.5 or 5 times a power of ten) that divides {@code max} into about five ticks. */
  static double step(double max) {
    if (!(max > 0) || Double.isInfinite(max)) {
      return 1;
    }
    double raw = max / 5;
    double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    double r = raw / magnitude;
    return magnitude * (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10);
  }

  public ExperimentChart {
    series = List.copyOf(series);
    marks = List.copyOf(marks);
  }

  /** Draws the plot into {@code png}. */
  public void write(Path png) throws IOException {
    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, HEIGHT);
      double xMax = 0;
      double yMax = 0;
      for (Series s : series) {
        for (int i = 0; i < s.x().length; i++) {
          xMax = Math.max(xMax, s.x()[i]);
          if (!Double.isNaN(s.y()[i])) {
            yMax = Math.max(yMax, s.y()[i]);
          }
        }
      }
      double xStep = step(xMax);
      double yStep = step(yMax * 1.05);
      xMax = xStep * Math.max(1, Math.ceil(xMax / xStep - 1e-9));
      yMax = yStep * Math.max(1, Math.ceil(yMax * 1.05 / yStep - 1e-9));
      int w = WIDTH - LEFT - RIGHT;
      int h = HEIGHT - TOP - BOTTOM;
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
      g.drawString(title, LEFT, 28);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      g.drawRect(LEFT, TOP, w, h);
      for (int t = 0; t * yStep <= yMax + 1e-9; t++) {
        int y = TOP + h - (int) Math.round(h * t * yStep / yMax);
        g.setColor(new Color(0xe0e0e0));
        g.drawLine(LEFT + 1, y, LEFT + w - 1, y);
        g.setColor(Color.BLACK);
        g.drawString(ResultTable.number(t * yStep), 8, y + 4);
      }
      for (int t = 0; t * xStep <= xMax + 1e-9; t++) {
        int x = LEFT + (int) Math.round(w * t * xStep / xMax);
        g.drawString(ResultTable.number(t * xStep), x - 10, TOP + h + 18);
      }
      g.drawString(xLabel, LEFT + w / 2 - 40, HEIGHT - 12);
      g.drawString(yLabel, 8, TOP - 10);
      double fx = w / xMax;
      double fy = h / yMax;
      for (Mark m : marks) {
        int x = LEFT + (int) Math.round(m.x() * fx);
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {5, 5}, 0));
        g.drawLine(x, TOP, x, TOP + h);
        g.drawString(m.label(), x + 4, TOP + 14);
      }
      g.setStroke(new BasicStroke(2));
      for (int k = 0; k < series.size(); k++) {
        Series s = series.get(k);
        g.setColor(COLORS[k % COLORS.length]);
        Path2D.Double line = new Path2D.Double();
        boolean pen = false;
        for (int i = 0; i < s.x().length; i++) {
          if (Double.isNaN(s.y()[i])) {
            pen = false;
            continue;
          }
          double x = LEFT + s.x()[i] * fx;
          double y = TOP + h - s.y()[i] * fy;
          if (pen) {
            line.lineTo(x, y);
          } else {
            line.moveTo(x, y);
            pen = true;
          }
          g.fillOval((int) x - 3, (int) y - 3, 6, 6);
        }
        g.draw(line);
        int ly = TOP + 10 + 20 * k;
        g.fillRect(LEFT + w + 15, ly - 8, 14, 8);
        g.setColor(Color.BLACK);
        g.drawString(s.name(), LEFT + w + 35, ly);
      }
    } finally {
      g.dispose();
    }
    ImageIO.write(image, "png", png.toFile());
  }
}
