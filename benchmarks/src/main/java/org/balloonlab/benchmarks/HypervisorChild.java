package org.balloonlab.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.balloonlab.hypervisor.cli.HypervisorCommand;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.units.MemorySize;

/**
 * The hypervisor in its own JVM, as a lab runs it, for the gRPC half of the benchmark.
 *
 * <p>Started through {@link JvmProcess} with this JVM's Java and class path; it binds port 0 on the loopback
 * address and the address it got is read from the {@link HypervisorCommand#LISTENING} line. The wait is on that
 * line or the child's exit, whichever comes first, with a deadline: no sleeping. The child is stopped when this
 * object is closed and, should the harness be interrupted or die of an exception first, by a shutdown hook, so
 * no hypervisor outlives the benchmark. Its host swap file lives in the benchmark's work directory.
 */
final class HypervisorChild implements AutoCloseable {
  private final JvmProcess process;
  private final Thread killOnExit;
  private String target;

  private HypervisorChild(JvmProcess process, Thread killOnExit) {
    this.process = process;
    this.killOnExit = killOnExit;
  }

  /**
   * Starts a hypervisor and waits until it listens.
   *
   * @param memory machine memory
   * @param maxBatch the most accesses a batch may hold
   * @param heap the child's maximum heap, such as {@code 512m}
   * @param workDir where its logs and host swap file go
   * @param timeout how long to wait for the listening line
   */
  static HypervisorChild start(MemorySize memory, int maxBatch, String heap, Path workDir, Duration timeout)
      throws IOException, InterruptedException {
    CompletableFuture<String> listening = new CompletableFuture<>();
    JvmProcess process = JvmProcess.start("hypervisor", HypervisorCommand.class.getName(),
        List.of("--memory", memory.toString(), "--listen", "127.0.0.1:0", "--max-batch", Integer.toString(maxBatch),
            "--host-swap-file", workDir.resolve("host.swap").toString()),
        heap, workDir, line -> {
          if (line.startsWith(HypervisorCommand.LISTENING)) {
            listening.complete(line.substring(HypervisorCommand.LISTENING.length()).trim());
          }
        });
    Thread killOnExit = new Thread(process::close, "stop-hypervisor-child");
    Runtime.getRuntime().addShutdownHook(killOnExit);
    HypervisorChild child = new HypervisorChild(process, killOnExit);
    try {
      CompletableFuture.anyOf(listening, process.process().onExit()).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // Reported below with what the child said.
    } catch (InterruptedException e) {
      child.close();
      throw e;
    }
    String address = listening.getNow(null);
    if (address == null) {
      String why = process.isAlive() ? "did not print its listening line within " + timeout.toSeconds() + " s"
          : "exited with code " + process.process().exitValue();
      child.close();
      throw new IOException("the hypervisor child " + why + "; it said:" + System.lineSeparator()
          + tail(workDir.resolve("hypervisor.log")) + tail(workDir.resolve("hypervisor.err.log")));
    }
    child.target = address;
    return child;
  }

  private static String tail(Path log) {
    try {
      StringBuilder b = new StringBuilder();
      List<String> lines = Files.readAllLines(log);
      for (String line : lines.subList(Math.max(0, lines.size() - 20), lines.size())) {
        b.append("  ").append(line).append(System.lineSeparator());
      }
      return b.toString();
    } catch (IOException e) {
      return "  (" + log.getFileName() + " unreadable: " + e.getMessage() + ")" + System.lineSeparator();
    }
  }

  /** The address it listens on, as {@code host:port}. */
  String target() {
    return target;
  }

  long pid() {
    return process.pid();
  }

  /** CPU time the child has used so far, all threads, or -1 where the platform does not say. */
  long cpuNanos() {
    return process.process().toHandle().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
  }

  /** Stops the child (SIGTERM, then SIGKILL after a few seconds) and forgets the shutdown hook. */
  @Override
  public void close() throws InterruptedException {
    try {
      process.stop(5, TimeUnit.SECONDS);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(killOnExit);
      } catch (IllegalStateException e) {
        // The JVM is already shutting down; the hook runs and finds the child gone.
      }
    }
  }
}
