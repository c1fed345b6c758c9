package org.balloonlab.lab.report;

/**
 * Where a plot's panels go, so that a run with many VMs stays readable: the machine-wide panels across the top,
 * then one panel per VM in a grid, in the VMs' natural order (vm2 before vm10), row by row. Up to
 * {@link #SINGLE_COLUMN_UP_TO} VMs stack in one wide column as before; more fill a grid of about as many columns
 * as rows, at most {@link #MAX_COLUMNS} wide, so 16 VMs make 4 rows of 4 instead of a column 16 panels tall.
 *
 * @param vms how many VM panels (0 draws one empty panel)
 * @param columns columns of VM panels
 * @param rows rows of VM panels
 * @param machinePanels how many machine-wide panels go above them
 */
record PlotLayout(int vms, int columns, int rows, int machinePanels) {
  /** Up to this many VMs, one column. */
  static final int SINGLE_COLUMN_UP_TO = 3;
  /** The widest grid. */
  static final int MAX_COLUMNS = 4;
  /** The space between two columns: room for the next column's value labels. */
  static final int COLUMN_GAP = 70;
  /** A panel's width in a grid of more than one column. */
  static final int GRID_PANEL_WIDTH = 400;
  /** The space between a panel and the one under it. */
  static final int ROW_GAP = 14;
  /** The space under a panel whose time axis is labelled (the last of its column, the machine's last). */
  static final int AXIS_ROOM = 30;

  /** A panel's place on the image. */
  record Rect(int left, int top, int width, int height) {
  }

  /** The layout of a plot of {@code vms} VMs with {@code machinePanels} machine-wide panels above them. */
  static PlotLayout of(int vms, int machinePanels) {
    int n = Math.max(1, vms);
    int columns = n <= SINGLE_COLUMN_UP_TO ? 1 : Math.min(MAX_COLUMNS, (int) Math.ceil(Math.sqrt(n)));
    return new PlotLayout(vms, columns, (n + columns - 1) / columns, machinePanels);
  }

  /** Width of one VM panel. */
  int panelWidth() {
    return columns == 1 ? Plots.WIDTH - Plots.LEFT - Plots.RIGHT : GRID_PANEL_WIDTH;
  }

  /** Width of the grid of VM panels, which the machine-wide panels span too. */
  int gridWidth() {
    return columns * panelWidth() + (columns - 1) * COLUMN_GAP;
  }

  /** The image's width. */
  int width() {
    return Plots.LEFT + gridWidth() + Plots.RIGHT;
  }

  /** Where the VM panels start. */
  private int gridTop() {
    return Plots.TOP + (machinePanels == 0 ? 0 : machinePanels * Plots.PANEL_HEIGHT + AXIS_ROOM);
  }

  /** The image's height. */
  int height() {
    return gridTop() + rows * Plots.PANEL_HEIGHT + Plots.BOTTOM;
  }

  /** The {@code k}th machine-wide panel. */
  Rect machinePanel(int k) {
    return new Rect(Plots.LEFT, Plots.TOP + k * Plots.PANEL_HEIGHT, gridWidth(), Plots.PANEL_HEIGHT - ROW_GAP);
  }

  /** The {@code i}th VM's panel, row by row. */
  Rect vmPanel(int i) {
    int column = i % columns;
    int row = i / columns;
    return new Rect(Plots.LEFT + column * (panelWidth() + COLUMN_GAP), gridTop() + row * Plots.PANEL_HEIGHT,
        panelWidth(), Plots.PANEL_HEIGHT - ROW_GAP);
  }

  /** Whether the {@code i}th VM's panel is the last of its column, so its time axis is labelled. */
  boolean lastInColumn(int i) {
    return i + columns >= Math.max(1, vms);
  }
}
