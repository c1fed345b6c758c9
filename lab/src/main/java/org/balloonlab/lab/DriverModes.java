package org.balloonlab.lab;

import org.balloonlab.domain.DriverMode;
import org.balloonlab.proto.DriverModeRequest;

/**
 * Balloon driver modes as operators write them, for the {@code driver} verb and scenario files alike: the
 * domain's one parser ({@link DriverMode#parse}), put on the wire.
 */
public final class DriverModes {
  private DriverModes() {}

  /**
   * Parses {@code enabled}, {@code disabled}, {@code uninstalled}, {@code late:DURATION},
   * {@code slow:PAGES_PER_SECOND} or {@code stuck[:PROBABILITY]} into the wire's request.
   *
   * @throws IllegalArgumentException saying what is wrong and what is accepted
   */
  public static DriverModeRequest parse(String text) {
    return toProto(DriverMode.parse(text));
  }

  /** The wire's form of a mode. */
  static DriverModeRequest toProto(DriverMode mode) {
    return DriverModeRequest.newBuilder()
        .setMode(org.balloonlab.proto.DriverMode.forNumber(mode.kind().wireNumber()))
        .setLateMs(mode.lateMillis())
        .setPagesPerSecond(mode.pagesPerSecond())
        .setStuckProbability(mode.stuckProbability())
        .build();
  }
}
