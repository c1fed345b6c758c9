package org.balloonlab.lab.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the report of a run into its folder: {@code report.json} (what the launcher gathered: the scenario,
 * final counters, the action log), {@code timeseries.csv} (every sample) and, if asked, the plots
 * {@code memory.png} and {@code faults.png}.
 */
public final class ReportWriter {
  public static final String JSON = "report.json";
  public static final String CSV = "timeseries.csv";
  public static final String MEMORY_PLOT = "memory.png";
  public static final String FAULTS_PLOT = "faults.png";

  private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ReportWriter() {}

  /** A fresh JSON object to fill in, for {@link #write}. */
  public static ObjectNode newReport() {
    return MAPPER.createObjectNode();
  }

  /** Reads JSON text (such as a protobuf message printed as JSON) into a tree to put in a report. */
  public static com.fasterxml.jackson.databind.JsonNode parse(String json) throws IOException {
    return MAPPER.readTree(json);
  }

  /**
   * Writes the report's files into {@code dir}.
   *
   * @param title heads the plots
   * @param markers scheduled actions to mark on the plots
   * @param plots whether to draw the plots
   * @return the files written
   */
  public static List<Path> write(Path dir, ObjectNode report, List<VmSample> samples, List<Plots.Marker> markers,
                                 String title, boolean plots) throws IOException {
    Files.createDirectories(dir);
    List<Path> written = new ArrayList<>();
    Path json = dir.resolve(JSON);
    MAPPER.writeValue(json.toFile(), report);
    written.add(json);
    Path csv = dir.resolve(CSV);
    TimeSeriesCsv.write(csv, samples);
    written.add(csv);
    if (plots) {
      Path memory = dir.resolve(MEMORY_PLOT);
      Plots.memory(title + ": memory per VM", samples, markers, memory);
      written.add(memory);
      Path faults = dir.resolve(FAULTS_PLOT);
      Plots.faultRates(title + ": fault rates", samples, markers, faults);
      written.add(faults);
    }
    return written;
  }
}
