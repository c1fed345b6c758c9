package org.balloonlab.guest.cli;

import org.balloonlab.domain.DriverMode;
import picocli.CommandLine;

/**
 * Reads {@code --balloon} with {@link DriverMode#parse}: {@code enabled}, {@code disabled}, {@code uninstalled},
 * {@code late:30s}, {@code slow:1000} (pages a second) or {@code stuck} / {@code stuck:0.1} (chance per batch of
 * hanging). A bad mode becomes picocli's usage error, with the parser's message.
 */
final class BalloonModeConverter implements CommandLine.ITypeConverter<DriverMode> {
  @Override
  public DriverMode convert(String value) {
    try {
      return DriverMode.parse(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }
}
