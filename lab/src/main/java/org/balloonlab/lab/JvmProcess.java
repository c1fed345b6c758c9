package org.balloonlab.lab;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A BalloonLab process (hypervisor or guest) started as its own JVM, with the same Java and class path as this
 * one. Its standard output and error go to a log file; every stdout line is also kept so callers can wait for
 * the line a process prints when it is ready. Its standard input is a pipe this JVM holds open, unwritten, for as
 * long as it lives: a child started with {@code --exit-with-parent} stops when it closes, so it does not outlive
 * this JVM even if this JVM is killed.
 */
public final class JvmProcess implements AutoCloseable {
  private final String name;
  private final Process process;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Path log;
  private final Thread pump;

  private JvmProcess(String name, Process process, Path log, Consumer<String> onLine) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.pump = new Thread(() -> pump(onLine), name + "-stdout");
    pump.setDaemon(true);
    pump.start();
  }

  /**
   * Starts {@code mainClass} with {@code args} in a new JVM.
   *
   * @param heap the child's maximum heap, such as {@code 512m}
   * @param logDir where {@code name.log} (its stdout) and {@code name.err.log} (its stderr) are written
   * @param onLine sees each line the child prints on stdout (may be {@code null})
   */
  public static JvmProcess start(String name, String mainClass, List<String> args, String heap, Path logDir,
                                 Consumer<String> onLine) throws IOException {
    return start(name, mainClass, args, heap, logDir, onLine, Map.of());
  }

  /**
   * Starts {@code mainClass} as {@link #start(String, String, List, String, Path, Consumer)} does, with
   * {@code env} added to the environment it inherits: the way tokens reach a child, since its command line is
   * visible to every user of the machine ({@code ps}).
   */
  public static JvmProcess start(String name, String mainClass, List<String> args, String heap, Path logDir,
                                 Consumer<String> onLine, Map<String, String> env) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heap);
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=4");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(args);
    Files.createDirectories(logDir);
    Path log = logDir.resolve(name + ".log");
    Path errLog = logDir.resolve(name + ".err.log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(errLog.toFile());
    pb.environment().putAll(env);
    return new JvmProcess(name, pb.start(), log, onLine);
  }

  private void pump(Consumer<String> onLine) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8));
         PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8), true)) {
      String line;
      while ((line = in.readLine()) != null) {
        lines.add(line);
        out.println(line);
        if (onLine != null) {
          onLine.accept(line);
        }
      }
    } catch (IOException e) {
      // The child went away; what it printed is already in the log.
    }
  }

  public String name() {
    return name;
  }

  public Process process() {
    return process;
  }

  public long pid() {
    return process.pid();
  }

  /** Every line printed on stdout so far. */
  public List<String> lines() {
    return lines;
  }

  /** The first line printed so far that starts with {@code prefix}, without the prefix, or {@code null}. */
  public String lineStartingWith(String prefix) {
    for (String l : lines) {
      if (l.startsWith(prefix)) {
        return l.substring(prefix.length()).trim();
      }
    }
    return null;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Kills the process at once (SIGKILL), as a crash would, and waits for it to be gone. */
  public void kill() throws InterruptedException {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
    pump.join(TimeUnit.SECONDS.toMillis(5));
  }

  /** Asks the process to stop (SIGTERM) and waits; kills it (SIGKILL) if it has not stopped in time. */
  public int stop(long timeout, TimeUnit unit) throws InterruptedException {
    // Through the handle: Process.destroy() would also close our end of the child's stdout, losing what it
    // prints while it stops (its summary).
    process.toHandle().destroy();
    if (!process.waitFor(timeout, unit)) {
      process.destroyForcibly();
      process.waitFor(5, TimeUnit.SECONDS);
    }
    // What the process printed last (its summary) is still in the pipe when it exits.
    pump.join(TimeUnit.SECONDS.toMillis(5));
    return process.isAlive() ? -1 : process.exitValue();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
