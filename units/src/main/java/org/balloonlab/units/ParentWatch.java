package org.balloonlab.units;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;

/**
 * Ends a child process when the launcher that started it goes away, however it goes (exit, crash, SIGKILL).
 *
 * <p>The launcher starts each child with a pipe on its standard input and keeps the pipe's other end open, never
 * writing to it, for as long as it lives; the child ({@code --exit-with-parent}) reads its standard input on a
 * daemon thread. When the launcher dies the kernel closes its end of the pipe, the read returns end-of-file, and
 * the child exits through {@link System#exit} with {@link ExitCodes#INTERRUPTED}, which runs its shutdown hook:
 * the same clean stop as Ctrl-C (a guest powers its VM off, the hypervisor stops serving and removes its swap
 * file).
 *
 * <p>Why not watch the parent process instead ({@code ProcessHandle.parent().onExit()}): for a process that is not
 * one's own child the JDK learns of its exit by polling, the parent's id may be reused once it is gone, and a
 * child re-parented to init has a new parent anyway. A pipe closes exactly once, at once, for every process that
 * holds its read end, whoever their parent is now. The cost: such a child must not be given a standard input
 * that ends early ({@code < /dev/null}), which is why it takes a flag.
 */
public final class ParentWatch {
  private ParentWatch() {}

  /**
   * Starts the daemon thread that watches standard input.
   *
   * @param log where to say, in one line, why the process stops
   * @param who how the line names the process, such as {@code guest-agent: vm1}
   */
  public static Thread exitWhenStdinCloses(PrintWriter log, String who) {
    return exitWhenClosed(System.in, log, who, () -> System.exit(ExitCodes.INTERRUPTED));
  }

  /** The watch on any stream, with what to do at its end; for tests. */
  static Thread exitWhenClosed(InputStream in, PrintWriter log, String who, Runnable exit) {
    Thread t = new Thread(() -> {
      byte[] ignored = new byte[256];
      try {
        while (in.read(ignored) >= 0) {
          // Nothing is ever written; whatever is, is ignored.
        }
      } catch (IOException e) {
        // A broken pipe is a launcher gone too.
      }
      log.println(who + ": the launcher that started it went away (standard input closed); stopping");
      log.flush();
      exit.run();
    }, "parent-watch");
    t.setDaemon(true);
    t.start();
    return t;
  }
}
