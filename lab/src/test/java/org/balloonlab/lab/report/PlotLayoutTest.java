package org.balloonlab.lab.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Where a plot's panels go: one column for a few VMs, a grid for many, machine panels on top. */
class PlotLayoutTest {
  @Test
  void aFewVmsStackInOneColumnAsBefore() {
    for (int vms = 0; vms <= 3; vms++) {
      PlotLayout l = PlotLayout.of(vms, 0);
      assertEquals(1, l.columns());
      assertEquals(Math.max(1, vms), l.rows());
      assertEquals(Plots.WIDTH, l.width());
      assertEquals(Plots.TOP + Plots.BOTTOM + Math.max(1, vms) * Plots.PANEL_HEIGHT, l.height());
    }
  }

  @Test
  void manyVmsFillAGridAtMostFourWide() {
    int[][] expected = {{4, 2, 2}, {5, 3, 2}, {9, 3, 3}, {10, 4, 3}, {16, 4, 4}, {17, 4, 5}, {40, 4, 10}};
    for (int[] e : expected) {
      PlotLayout l = PlotLayout.of(e[0], 2);
      assertEquals(e[1], l.columns(), e[0] + " VMs: columns");
      assertEquals(e[2], l.rows(), e[0] + " VMs: rows");
      assertTrue(l.rows() * l.columns() >= e[0]);
    }
  }

  @Test
  void panelsGoRowByRowBelowTheMachinePanelsWithoutOverlapping() {
    PlotLayout l = PlotLayout.of(16, 2);
    PlotLayout.Rect lastMachine = l.machinePanel(1);
    assertEquals(l.gridWidth(), lastMachine.width(), "the machine panels span the grid");
    for (int i = 0; i < 16; i++) {
      PlotLayout.Rect r = l.vmPanel(i);
      assertTrue(r.top() >= lastMachine.top() + lastMachine.height() + PlotLayout.AXIS_ROOM, "below the machine");
      assertTrue(r.left() + r.width() <= l.width() - Plots.RIGHT, "inside the image");
      assertTrue(r.top() + r.height() <= l.height() - Plots.BOTTOM, "inside the image");
      if (i % 4 != 3) {
        PlotLayout.Rect right = l.vmPanel(i + 1);
        assertEquals(r.top(), right.top(), "same row");
        assertTrue(right.left() >= r.left() + r.width() + PlotLayout.COLUMN_GAP - 1, "no overlap");
      }
      if (i + 4 < 16) {
        PlotLayout.Rect below = l.vmPanel(i + 4);
        assertTrue(below.top() >= r.top() + r.height(), "no overlap");
      }
    }
    assertTrue(l.lastInColumn(15) && l.lastInColumn(12));
    assertFalse(l.lastInColumn(11));
    PlotLayout five = PlotLayout.of(5, 0);
    assertTrue(five.lastInColumn(2), "a column whose last row is empty ends a row higher");
  }
}
