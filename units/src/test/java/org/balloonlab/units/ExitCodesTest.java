package org.balloonlab.units;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The exit codes are distinct, and a command line registered here ends with them, in one line on stderr. */
class ExitCodesTest {
  @Command(name = "probe")
  static final class Probe implements Callable<Integer> {
    @Option(names = "--memory")
    MemorySize memory;

    @Option(names = "--fail")
    String fail;

    @Override
    public Integer call() throws IOException {
      if ("io".equals(fail)) {
        throw new IOException("the hypervisor exited before it was ready; see runs/x/hypervisor.err.log");
      }
      if ("bug".equals(fail)) {
        throw new IllegalStateException("a bug");
      }
      return ExitCodes.OK;
    }
  }

  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cl = CommandLineConverters.register(new CommandLine(new Probe()));
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));
    return cl.execute(args);
  }

  @Test
  void everyCodeIsDistinct() throws IllegalAccessException {
    Set<Integer> seen = new HashSet<>();
    for (Field f : ExitCodes.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
        assertTrue(seen.add(f.getInt(null)), f.getName() + " repeats a code");
      }
    }
    assertEquals(10, seen.size());
    assertEquals(130, ExitCodes.INTERRUPTED, "128 + SIGINT, what the JVM exits with on Ctrl-C");
    assertEquals(143, ExitCodes.TERMINATED, "128 + SIGTERM");
  }

  @Test
  void aBadValueIsAUsageErrorInOneLine() {
    assertEquals(ExitCodes.USAGE, run("--memory", "12XB"));
    assertEquals(1, err.toString().lines().count(), err.toString());
    assertTrue(err.toString().startsWith("probe: ") && err.toString().contains("--memory")
        && err.toString().contains("(see probe --help)"), err.toString());
    assertEquals(ExitCodes.USAGE, run("--no-such-option"));
  }

  @Test
  void anIoFailureIsOneLineAndTheRunFailed() {
    assertEquals(ExitCodes.FAILED, run("--fail", "io"));
    assertEquals("probe: the hypervisor exited before it was ready; see runs/x/hypervisor.err.log",
        err.toString().strip());
  }

  @Test
  void aBugKeepsItsStackTrace() {
    assertEquals(ExitCodes.FAILED, run("--fail", "bug"));
    assertTrue(err.toString().contains("\tat "), err.toString());
    assertFalse(err.toString().isEmpty());
  }

  @Test
  void successIsZero() {
    assertEquals(ExitCodes.OK, run());
  }
}
