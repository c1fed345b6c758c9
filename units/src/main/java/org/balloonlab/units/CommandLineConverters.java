package org.balloonlab.units;

import java.time.Duration;
import picocli.CommandLine;

/** picocli converters, so every command reads sizes, durations and addresses the same way and with the same errors. */
public final class CommandLineConverters {
  private CommandLineConverters() {}

  /** Reads {@code 512MiB}; a bad size becomes a picocli usage error that names the option. */
  public static final class MemorySizeConverter implements CommandLine.ITypeConverter<MemorySize> {
    @Override
    public MemorySize convert(String value) {
      try {
        return MemorySize.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** Reads {@code host:port}. */
  public static final class HostPortConverter implements CommandLine.ITypeConverter<HostPort> {
    @Override
    public HostPort convert(String value) {
      try {
        return HostPort.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** Reads {@code 30s}. */
  public static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return SimDuration.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** Reads {@code 10s} or {@code 30s,10s}, a network keepalive's time and timeout. */
  public static final class KeepaliveConverter implements CommandLine.ITypeConverter<Keepalive> {
    @Override
    public Keepalive convert(String value) {
      try {
        return Keepalive.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /**
   * Registers every converter on a command line, for all of its subcommands, and how it ends on an error: a bad
   * command line is one line on stderr (what is wrong, and where the help is) and {@link ExitCodes#USAGE}; an
   * I/O failure while the command runs is one line and {@link ExitCodes#FAILED} (with its stack trace only when
   * {@code -Dballoonlab.log.level=DEBUG}); any other exception is a bug, printed with its stack trace.
   */
  public static CommandLine register(CommandLine commandLine) {
    return commandLine
        .registerConverter(MemorySize.class, new MemorySizeConverter())
        .registerConverter(HostPort.class, new HostPortConverter())
        .registerConverter(Duration.class, new DurationConverter())
        .registerConverter(Keepalive.class, new KeepaliveConverter())
        .setParameterExceptionHandler(CommandLineConverters::usageError)
        .setExecutionExceptionHandler(CommandLineConverters::failure);
  }

  private static int usageError(CommandLine.ParameterException e, String[] args) {
    CommandLine cl = e.getCommandLine();
    String name = cl.getCommandSpec().qualifiedName();
    cl.getErr().println(name + ": " + e.getMessage() + " (see " + name + " --help)");
    cl.getErr().flush();
    return ExitCodes.USAGE;
  }

  private static int failure(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
    if (e instanceof java.io.IOException || e instanceof java.io.UncheckedIOException) {
      cl.getErr().println(cl.getCommandSpec().qualifiedName() + ": " + e.getMessage());
      if ("debug".equalsIgnoreCase(System.getProperty("balloonlab.log.level", ""))) {
        e.printStackTrace(cl.getErr());
      }
    } else {
      e.printStackTrace(cl.getErr());
    }
    cl.getErr().flush();
    return ExitCodes.FAILED;
  }
}
