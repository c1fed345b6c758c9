package org.balloonlab.benchmarks;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.balloonlab.units.CommandLineConverters;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * A benchmark harness as a command: the conventions both harnesses keep (help, version, the exit codes listed),
 * the checks of their options, the progress lines they print while they run, and how a run ends: an exit code
 * from its figures' verdicts, and its work directory removed only when the run was clean and not asked to keep it.
 *
 * <p>A subclass declares its own options (picocli lists them in the order the subclass declares them) and its
 * name, description and exit-code list in its own {@code @Command}; the attributes here are inherited.
 */
@Command(mixinStandardHelpOptions = true, version = "BalloonLab 0.1.0", sortOptions = false,
    exitCodeListHeading = "%nExit codes:%n")
public abstract class BenchmarkCommand implements Callable<Integer> {
  /** A target was missed with {@code --strict}, or the benchmark could not run. */
  public static final int EXIT_FAILED = 1;
  /** Integrity or isolation violations, or another audit that must find nothing found something. */
  public static final int EXIT_VIOLATIONS = 3;

  @Spec
  CommandLine.Model.CommandSpec spec;

  /** Where the figures and progress lines go: the command line's standard output. */
  protected PrintWriter out;

  /** Runs {@code command} on {@code args} and exits the JVM with its exit code. */
  protected static void main(BenchmarkCommand command, String[] args) {
    System.exit(CommandLineConverters.register(new CommandLine(command)).execute(args));
  }

  @Override
  public final Integer call() throws Exception {
    out = spec.commandLine().getOut();
    return run();
  }

  /** Checks the options, measures, prints the figures; answers the exit code. */
  protected abstract int run() throws Exception;

  /** Where error messages go: the command line's standard error. */
  protected final PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** {@code size} in pages, or a command-line error naming {@code option}. */
  protected final long pages(MemorySize size, String option) {
    try {
      return size.requirePages(option);
    } catch (IllegalArgumentException e) {
      throw badCommandLine(e.getMessage());
    }
  }

  /** A command-line error saying {@code message}, unless {@code ok}. */
  protected final void check(boolean ok, String message) {
    if (!ok) {
      throw badCommandLine(message);
    }
  }

  /** What picocli reports as a bad command line: the message, the usage, exit code 2. */
  protected final CommandLine.ParameterException badCommandLine(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  /** Prints a progress line ({@code ... line}) at once, so a slow run shows where it is. */
  protected final void progress(String line) {
    out.println("... " + line);
    out.flush();
  }

  /** The JVM the harness runs in, for the setup lines: {@code java 17.0.15, 2 CPUs, max heap 2GiB}. */
  protected static String jvm() {
    return String.format("java %s, %d CPUs, max heap %s", System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(), MemorySize.humanPages(Runtime.getRuntime().maxMemory() / 4096));
  }

  /** The parts {@code --only} names, or all of them when it names none. */
  protected static <P extends Enum<P>> Set<P> parts(Set<P> only, Class<P> type) {
    return only == null || only.isEmpty() ? EnumSet.allOf(type) : EnumSet.copyOf(only);
  }

  /** Parts as {@code --only} spells them, comma-separated: {@code grpc, in-process, heap}. */
  protected static String partNames(Set<? extends Enum<?>> parts) {
    return parts.stream().map(BenchmarkCommand::partName).collect(Collectors.joining(", "));
  }

  private static String partName(Enum<?> part) {
    return part.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * The exit code {@code figures} earn: violations fail the run, missed targets only with {@code --strict}.
   * Prints why a run fails.
   *
   * @param violations what the violations were, for the message: {@code integrity or isolation}
   * @param workDir kept when there were violations, and named
   */
  protected final int exitCode(FigureTable figures, String violations, boolean strict, Path workDir) {
    if (figures.violations() > 0) {
      out.println("FAILED: " + violations + " violations; work directory kept: " + workDir);
      return EXIT_VIOLATIONS;
    }
    if (figures.misses() > 0 && strict) {
      out.println("FAILED: " + figures.misses() + " target(s) missed (--strict)");
      return EXIT_FAILED;
    }
    return 0;
  }

  /**
   * Ends a run's use of its work directory: removes it after a clean run unless {@code keep}, and otherwise says
   * where it is.
   *
   * @param holding what is in it worth a look, for the message: {@code child logs}
   */
  protected final void leave(Path workDir, boolean clean, boolean keep, String holding) throws IOException {
    out.flush();
    if (clean && !keep) {
      WorkDirectory.delete(workDir);
    } else {
      out.println("work directory (" + holding + "): " + workDir);
      out.flush();
    }
  }

  /**
   * Reads a part's name as {@code --only} spells it ({@code in-process} for {@code IN_PROCESS}) and refuses an
   * unknown one with the names it knows. A harness subclasses it for its own parts, as picocli instantiates a
   * converter by its class.
   */
  public abstract static class PartConverter<P extends Enum<P>> implements CommandLine.ITypeConverter<P> {
    private final Class<P> type;

    protected PartConverter(Class<P> type) {
      this.type = type;
    }

    @Override
    public P convert(String value) {
      try {
        return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("unknown part '" + value + "'; known: "
            + partNames(EnumSet.allOf(type)));
      }
    }
  }
}
