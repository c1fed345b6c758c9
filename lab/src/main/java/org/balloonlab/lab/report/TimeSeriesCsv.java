package org.balloonlab.lab.report;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes a run's samples as CSV, one row per sample per VM, for spreadsheets and plotting tools. */
public final class TimeSeriesCsv {
  /** The header row; columns in this order. Sizes are in 4 KiB pages. */
  public static final String HEADER = "lab_time_s,vm,configured_pages,mapped_pages,balloon_pages,balloon_target_pages,"
      + "host_swapped_pages,guest_faults,hidden_faults,host_page_outs,host_page_ins,double_paging,simulated_s,"
      + "free_frames,free_state,accesses,shared_pages";

  private TimeSeriesCsv() {}

  public static void write(Path file, List<VmSample> samples) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write(HEADER);
      w.write('\n');
      for (VmSample s : samples) {
        w.write(String.format(Locale.ROOT, "%.3f,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.6f,%d,%s,%d,%d%n", s.labSeconds(),
            s.vm(), s.configuredPages(), s.mappedPages(), s.balloonPages(), s.balloonTargetPages(),
            s.hostSwappedPages(), s.guestFaults(), s.hiddenFaults(), s.hostPageOuts(), s.hostPageIns(),
            s.doublePaging(), s.simulatedSeconds(), s.freeFrames(), s.freeState(), s.accesses(), s.sharedPages()));
      }
    }
  }
}
