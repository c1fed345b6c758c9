package org.balloonlab.guest.cli;

import java.util.Locale;
import org.balloonlab.balloon.driver.BalloonHost.Mode;
import org.balloonlab.balloon.driver.BalloonHost.ModeRequest;
import org.balloonlab.units.SimDuration;
import picocli.CommandLine;

/**
 * Reads {@code --balloon}: {@code enabled}, {@code disabled}, {@code uninstalled}, {@code late:30s},
 * {@code slow:1000} (pages a second) or {@code stuck} / {@code stuck:0.1} (chance per batch of hanging).
 */
final class BalloonModeConverter implements CommandLine.ITypeConverter<ModeRequest> {
  @Override
  public ModeRequest convert(String value) {
    try {
      return parse(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }

  static ModeRequest parse(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    int colon = v.indexOf(':');
    String name = colon < 0 ? v : v.substring(0, colon);
    String arg = colon < 0 ? null : v.substring(colon + 1);
    switch (name) {
      case "enabled", "disabled", "uninstalled" -> {
        if (arg != null) {
          throw new IllegalArgumentException("driver mode " + name + " takes no parameter");
        }
        return ModeRequest.of(Mode.valueOf(name.toUpperCase(Locale.ROOT)));
      }
      case "late" -> {
        if (arg == null) {
          throw new IllegalArgumentException("driver mode late needs a delay, such as late:30s");
        }
        return new ModeRequest(Mode.LATE, SimDuration.parse(arg).toMillis(), 0, 1.0);
      }
      case "slow" -> {
        long rate;
        try {
          rate = Long.parseLong(arg == null ? "" : arg);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("driver mode slow needs a rate in pages a second, such as slow:1000");
        }
        if (rate <= 0) {
          throw new IllegalArgumentException("driver mode slow needs a positive rate, got " + rate);
        }
        return new ModeRequest(Mode.SLOW, 0, rate, 1.0);
      }
      case "stuck" -> {
        double p = 1.0;
        if (arg != null) {
          try {
            p = Double.parseDouble(arg);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("driver mode stuck takes a probability from 0 to 1, got '" + arg + "'");
          }
          if (!(p > 0 && p <= 1)) {
            throw new IllegalArgumentException("driver mode stuck takes a probability above 0 and at most 1, got "
                + arg);
          }
        }
        return new ModeRequest(Mode.STUCK, 0, 0, p);
      }
      default -> throw new IllegalArgumentException("unknown driver mode '" + value
          + "'; use enabled, disabled, uninstalled, late:DURATION, slow:PAGES_PER_SECOND or stuck[:PROBABILITY]");
    }
  }
}
