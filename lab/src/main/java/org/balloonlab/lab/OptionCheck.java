package org.balloonlab.lab;

import org.balloonlab.units.MemorySize;
import picocli.CommandLine;

/**
 * Refuses a bad option the way picocli refuses one it cannot convert: a {@link CommandLine.ParameterException}, so
 * the command prints the message in one line on stderr and exits with {@code ExitCodes.USAGE}, before it starts
 * anything.
 */
final class OptionCheck {
  private OptionCheck() {}

  /** @throws CommandLine.ParameterException with {@code message} unless {@code ok} */
  static void require(CommandLine.Model.CommandSpec spec, boolean ok, String message) {
    if (!ok) {
      throw new CommandLine.ParameterException(spec.commandLine(), message);
    }
  }

  /**
   * The size in whole pages.
   *
   * @throws CommandLine.ParameterException naming {@code option} if it is not a positive number of pages
   */
  static long pages(CommandLine.Model.CommandSpec spec, MemorySize size, String option) {
    try {
      return size.requirePages(option);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }
}
