package org.balloonlab.lab;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.balloonlab.proto.ListVmsResponse;

/**
 * What a run prints while it lasts: the table of the lab ({@link VmTable}), redrawn in place in a terminal or
 * printed as lines otherwise, and one line per event of the run (an action applied, a guest started) kept above
 * the table.
 */
final class LiveView {
  private final PrintWriter out;
  private final boolean ansi;
  private String lastTime;
  private ListVmsResponse last;
  private int drawnLines;

  /** @param ansi whether to redraw the table in place (a terminal) or print it as lines */
  LiveView(PrintWriter out, boolean ansi) {
    this.out = out;
    this.ansi = ansi;
  }

  /** Shows the lab as {@code state} says it stands at {@code time}. */
  void table(String time, ListVmsResponse state) {
    lastTime = time;
    last = state;
    List<String> lines = new ArrayList<>();
    lines.add(VmTable.header());
    lines.addAll(List.of(VmTable.render(time, state).split("\n")));
    String sharing = VmTable.sharingLines(state);
    if (sharing != null) {
      // The machine-wide line only: the per-VM figures are in status, the report and the dashboard.
      lines.add(sharing.lines().findFirst().orElse(""));
    }
    StringBuilder b = new StringBuilder();
    erase(b);
    for (String l : lines) {
      b.append(l).append('\n');
    }
    out.print(b);
    drawnLines = ansi ? lines.size() : 0;
    out.flush();
  }

  /** Prints a line of its own; in a terminal above the table, which is drawn again under it. */
  void line(String text) {
    StringBuilder b = new StringBuilder();
    erase(b);
    drawnLines = 0;
    out.print(b);
    out.println(text);
    out.flush();
    if (ansi && last != null) {
      table(lastTime, last);
    }
  }

  private void erase(StringBuilder b) {
    if (ansi && drawnLines > 0) {
      b.append("\u001b[").append(drawnLines).append("F\u001b[J");
    }
  }
}
