package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.balloonlab.lab.BalloonLabCommand;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.lab.report.ReportWriter;

/**
 * {@code balloonlab} commands run as child JVMs for one test class, with the processes they start: closing it
 * kills whatever is still alive (launchers and their children), whatever state the test left them in.
 */
final class LabRuns implements AutoCloseable {
  private final Path work;
  private final List<JvmProcess> launchers = new ArrayList<>();
  private final List<ProcessHandle> seen = new ArrayList<>();

  /** @param work the folder for scenario files, logs and runs */
  LabRuns(Path work) throws IOException {
    this.work = work;
    Files.createDirectories(work);
  }

  Path work() {
    return work;
  }

  /** Writes a scenario file under the work folder. */
  Path scenario(String name, String yaml) throws IOException {
    Path file = work.resolve(name + ".yaml");
    Files.writeString(file, yaml);
    return file;
  }

  /** Starts {@code balloonlab ARGS...} as a child JVM, its output logged under {@code logs-NAME}. */
  JvmProcess start(String name, String... args) throws IOException {
    JvmProcess launcher = JvmProcess.start("launcher-" + name, BalloonLabCommand.class.getName(), List.of(args),
        "256m", work.resolve("logs-" + name), null);
    launchers.add(launcher);
    return launcher;
  }

  /** Waits until the launcher runs {@code processes} children and remembers them, to check they end. */
  void awaitChildren(JvmProcess launcher, int processes) {
    await("the launcher's processes").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> launcher.process().descendants().count() >= processes || !launcher.isAlive());
    List<ProcessHandle> children = launcher.process().descendants().toList();
    seen.addAll(children);
    assertTrue(children.size() >= processes, "the launcher started " + children.size() + " processes, expected "
        + processes);
  }

  /** Waits for the launcher to end and answers its exit code. */
  int awaitEnd(JvmProcess launcher, Duration limit) throws InterruptedException {
    await("the launcher's end").atMost(limit).pollInterval(Duration.ofMillis(200)).until(() -> !launcher.isAlive());
    launcher.stop(5, TimeUnit.SECONDS); // collects what it printed last
    return launcher.process().exitValue();
  }

  /**
   * Runs {@code scenario} with {@code balloonlab run --plain} into {@code run-NAME} under the work directory,
   * waits for its {@code processes} processes to start and for it to end with exit code 0 within {@code limit},
   * checks that nothing it started is left, and answers the run directory.
   */
  Path runToEnd(String name, Path scenario, int processes, Duration limit) throws Exception {
    Path dir = work.resolve("run-" + name);
    JvmProcess launcher = start(name, "run", scenario.toString(), "--run-dir", dir.toString(), "--plain");
    awaitChildren(launcher, processes);
    assertEquals(0, awaitEnd(launcher, limit), String.join("\n", launcher.lines()));
    assertNothingLeft();
    return dir;
  }

  /** Checks that no process the launchers started is still alive. */
  void assertNothingLeft() {
    List<ProcessHandle> alive = seen.stream().filter(ProcessHandle::isAlive).toList();
    assertEquals(List.of(), alive.stream().map(h -> h.pid() + " " + h.info().commandLine().orElse("")).toList(),
        "processes left running");
  }

  /** The {@code report.json} of a run. */
  static ObjectNode report(Path runDir) throws IOException {
    return (ObjectNode) new ObjectMapper().readTree(runDir.resolve(ReportWriter.JSON).toFile());
  }

  /** A report's results: all but its {@code wall} section, which says where and when the run happened. */
  static ObjectNode results(JsonNode report) {
    ObjectNode copy = report.deepCopy();
    copy.remove("wall");
    return copy;
  }

  @Override
  public void close() {
    for (ProcessHandle h : seen) {
      h.destroyForcibly();
    }
    for (JvmProcess l : launchers) {
      l.process().descendants().forEach(ProcessHandle::destroyForcibly);
      l.close();
    }
  }
}
