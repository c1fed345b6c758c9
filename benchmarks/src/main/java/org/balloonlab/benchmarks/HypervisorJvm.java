package org.balloonlab.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.balloonlab.hypervisor.cli.HypervisorCommand;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.transport.Token;
import org.balloonlab.transport.TokenKind;

/**
 * The hypervisor in its own JVM with whatever flags a benchmark needs: started through
 * {@link JvmProcess}, bound to port 0 on the loopback address, its address read from the
 * {@link HypervisorCommand#LISTENING} line (no sleeping), and stopped on {@link #close()} or, should the harness
 * die first, by a shutdown hook.
 */
public final class HypervisorJvm implements AutoCloseable {
  private final JvmProcess process;
  private final Thread killOnExit;
  private final String target;
  private final Token operator;
  private final Token lab;

  private HypervisorJvm(JvmProcess process, Thread killOnExit, String target, Token operator, Token lab) {
    this.process = process;
    this.killOnExit = killOnExit;
    this.target = target;
    this.operator = operator;
    this.lab = lab;
  }

  /**
   * Starts a hypervisor listening on {@code 127.0.0.1:0} with {@code args} added, and waits until it listens.
   *
   * @param args further flags, such as {@code --memory 8GiB --balloon-batch 65536}
   * @param heap the child's maximum heap, such as {@code 512m}
   * @param workDir where its logs go
   */
  public static HypervisorJvm start(List<String> args, String heap, Path workDir, Duration timeout)
      throws IOException, InterruptedException {
    List<String> all = new ArrayList<>(List.of("--listen", "127.0.0.1:0"));
    all.addAll(args);
    CompletableFuture<String> listening = new CompletableFuture<>();
    // Tokens made here and handed over by environment: the hypervisor then writes no files.
    Token operator = Token.generate();
    Token lab = Token.generate();
    JvmProcess process = JvmProcess.start("hypervisor", HypervisorCommand.class.getName(), all, heap, workDir,
        line -> {
          if (line.startsWith(HypervisorCommand.LISTENING)) {
            listening.complete(line.substring(HypervisorCommand.LISTENING.length()).trim());
          }
        }, Map.of(TokenKind.OPERATOR.environmentVariable(), operator.reveal(),
            TokenKind.LAB.environmentVariable(), lab.reveal()));
    Thread killOnExit = new Thread(process::close, "stop-hypervisor-jvm");
    Runtime.getRuntime().addShutdownHook(killOnExit);
    try {
      CompletableFuture.anyOf(listening, process.process().onExit()).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // Reported below with what the child said.
    } catch (InterruptedException e) {
      stop(process, killOnExit);
      throw e;
    }
    String address = listening.getNow(null);
    if (address == null) {
      String why = process.isAlive() ? "did not print its listening line within " + timeout.toSeconds() + " s"
          : "exited with code " + process.process().exitValue();
      stop(process, killOnExit);
      throw new IOException("the hypervisor child " + why + "; it said:" + System.lineSeparator()
          + tail(workDir.resolve("hypervisor.log")) + tail(workDir.resolve("hypervisor.err.log")));
    }
    return new HypervisorJvm(process, killOnExit, address, operator, lab);
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

  /** Where it listens: {@code 127.0.0.1:port}. */
  public String target() {
    return target;
  }

  /** How a guest reaches it: plaintext with the lab token. */
  public ClientSecurity guestSecurity() {
    return ClientSecurity.NONE.withToken(lab);
  }

  /** How the operator reaches it: plaintext with the operator token. */
  public ClientSecurity operatorSecurity() {
    return ClientSecurity.NONE.withToken(operator);
  }

  /** The child's process id. */
  public long pid() {
    return process.pid();
  }

  /** CPU time the child has used so far, all threads, or -1 where the platform does not say. */
  public long cpuNanos() {
    return process.process().toHandle().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
  }

  /** Stops the child (SIGTERM, then SIGKILL after a few seconds) and forgets the shutdown hook. */
  @Override
  public void close() throws InterruptedException {
    stop(process, killOnExit);
  }

  private static void stop(JvmProcess process, Thread hook) throws InterruptedException {
    try {
      process.stop(5, TimeUnit.SECONDS);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // The JVM is already shutting down; the hook runs and finds the child gone.
      }
    }
  }
}
