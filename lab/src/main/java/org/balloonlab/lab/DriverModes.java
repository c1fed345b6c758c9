package org.balloonlab.lab;

import java.util.Locale;
import org.balloonlab.proto.DriverMode;
import org.balloonlab.proto.DriverModeRequest;
import org.balloonlab.units.SimDuration;

/** Balloon driver modes as operators write them, for the {@code driver} verb and scenario files alike. */
public final class DriverModes {
  private DriverModes() {}

  /**
   * Parses {@code enabled}, {@code disabled}, {@code uninstalled}, {@code late:DURATION},
   * {@code slow:PAGES_PER_SECOND} or {@code stuck[:PROBABILITY]}.
   *
   * @throws IllegalArgumentException saying what is wrong and what is accepted
   */
  public static DriverModeRequest parse(String text) {
    String v = text.trim().toLowerCase(Locale.ROOT);
    int colon = v.indexOf(':');
    String name = colon < 0 ? v : v.substring(0, colon);
    String arg = colon < 0 ? null : v.substring(colon + 1);
    DriverModeRequest.Builder b = DriverModeRequest.newBuilder().setStuckProbability(1.0);
    switch (name) {
      case "enabled" -> b.setMode(DriverMode.DRIVER_MODE_ENABLED);
      case "disabled" -> b.setMode(DriverMode.DRIVER_MODE_DISABLED);
      case "uninstalled" -> b.setMode(DriverMode.DRIVER_MODE_UNINSTALLED);
      case "late" -> {
        if (arg == null) {
          throw new IllegalArgumentException("late needs a delay, such as late:30s");
        }
        b.setMode(DriverMode.DRIVER_MODE_LATE).setLateMs(SimDuration.parse(arg).toMillis());
      }
      case "slow" -> {
        try {
          b.setMode(DriverMode.DRIVER_MODE_SLOW).setPagesPerSecond(Long.parseLong(arg == null ? "" : arg));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("slow needs a rate in pages a second, such as slow:1000");
        }
      }
      case "stuck" -> {
        b.setMode(DriverMode.DRIVER_MODE_STUCK);
        if (arg != null) {
          try {
            b.setStuckProbability(Double.parseDouble(arg));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("stuck takes a probability from 0 to 1, such as stuck:0.1");
          }
        }
      }
      default -> throw new IllegalArgumentException("unknown mode '" + text + "'; use enabled, disabled, "
          + "uninstalled, late:DURATION, slow:PAGES_PER_SECOND or stuck[:PROBABILITY]");
    }
    return b.build();
  }
}
