package org.balloonlab.domain;

import java.util.Locale;
import java.util.Objects;
import org.balloonlab.units.SimDuration;

/**
 * A balloon driver's mode, for fault injection: what an operator, a scenario or a guest's command line asks a
 * driver to do, and what the driver runs in. Users write a mode as {@code enabled}, {@code disabled},
 * {@code uninstalled}, {@code late:DURATION}, {@code slow:PAGES_PER_SECOND} or {@code stuck[:PROBABILITY]};
 * {@link #parse} reads that form (and is the one place that checks it) and {@link #toString} writes it.
 *
 * <p>The record carries every parameter whatever the kind, as the wire's {@code DriverModeRequest} does, and two
 * modes are equal only when every field is. A driver adopts a requested mode when it differs from its own, so
 * a mapping that dropped or normalised the parameters a kind ignores would change what counts as a switch.
 * {@link #toString} prints only the parameter the kind uses.
 *
 * @param kind which mode
 * @param lateMillis for {@code late}: how long after the driver starts it stays unavailable
 * @param pagesPerSecond for {@code slow}: the inflation rate cap
 * @param stuckProbability for {@code stuck}: the chance per inflation batch of hanging; 1 hangs at once
 */
public record DriverMode(Kind kind, long lateMillis, long pagesPerSecond, double stuckProbability) {

  /** The forms a user may write, for messages and help texts. */
  public static final String FORMS =
      "enabled, disabled, uninstalled, late:DURATION, slow:PAGES_PER_SECOND or stuck[:PROBABILITY]";

  /** The six modes, as the wire's {@code DriverMode} enumerates them. */
  public enum Kind {
    /** Inflates and deflates as asked. */
    ENABLED,
    /** Loaded and talking to the hypervisor, but never inflates. */
    DISABLED,
    /** Not installed: never connects. */
    UNINSTALLED,
    /** Unavailable until some time after it was started, then enabled. */
    LATE,
    /** Inflates at most so many pages a second. */
    SLOW,
    /** Stops answering in the middle of an inflation: at once, or with a probability per batch. */
    STUCK;

    /**
     * The number the wire's {@code DriverMode} enum gives this kind: the kinds in this order from 1, as
     * {@code balloon.proto} lists them (0 is unspecified). Every module maps the wire through this one rule.
     */
    public int wireNumber() {
      return ordinal() + 1;
    }

    /** The kind the wire's number stands for, or {@code null} for 0 (unspecified) or a number this side lacks. */
    public static Kind fromWireNumber(int number) {
      Kind[] kinds = values();
      return number >= 1 && number <= kinds.length ? kinds[number - 1] : null;
    }

    /** The name users write: {@code enabled}, {@code disabled}, ..., {@code stuck}. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** As users write it ({@link #label()}), so that a kind in a message or a log never reads {@code STUCK}. */
    @Override
    public String toString() {
      return label();
    }

    /**
     * The kind a {@link #label()} names.
     *
     * @throws IllegalArgumentException for any other text
     */
    public static Kind fromLabel(String label) {
      for (Kind k : values()) {
        if (k.label().equals(label)) {
          return k;
        }
      }
      throw new IllegalArgumentException("unknown driver mode '" + label
          + "'; known: enabled, disabled, uninstalled, late, slow, stuck");
    }
  }

  public DriverMode {
    Objects.requireNonNull(kind, "kind");
  }

  /**
   * A mode from its parts, as a message on the wire carries them, checked by the same rules as {@link #parse}:
   * no negative parameter, {@code slow} needs a rate, a probability is a number from 0 to 1 ({@code stuck} with
   * 0, a field left unset, hangs at once).
   *
   * @throws IllegalArgumentException saying which part is wrong
   */
  public static DriverMode checked(Kind kind, long lateMillis, long pagesPerSecond, double stuckProbability) {
    if (kind == null) {
      throw new IllegalArgumentException("a driver mode is required; use " + FORMS);
    }
    if (lateMillis < 0 || pagesPerSecond < 0) {
      throw new IllegalArgumentException("driver mode parameters cannot be negative");
    }
    if (kind == Kind.SLOW && pagesPerSecond == 0) {
      throw new IllegalArgumentException("driver mode slow needs a rate in pages per second");
    }
    if (!(stuckProbability >= 0 && stuckProbability <= 1)) {
      throw new IllegalArgumentException("stuck probability must be from 0 to 1, got " + stuckProbability);
    }
    double p = kind == Kind.STUCK && stuckProbability == 0 ? 1.0 : stuckProbability;
    return new DriverMode(kind, lateMillis, pagesPerSecond, p);
  }

  /** A mode with no parameters ({@code stuck} hangs at the first batch). */
  public static DriverMode of(Kind kind) {
    return new DriverMode(kind, 0, 0, 1.0);
  }

  /**
   * Reads a mode as users write it, in any letter case: {@code enabled}, {@code disabled}, {@code uninstalled},
   * {@code late:30s}, {@code slow:1000} (pages a second) or {@code stuck} / {@code stuck:0.1} (chance per batch
   * of hanging, above 0 and at most 1).
   *
   * @throws IllegalArgumentException saying what is wrong and what is accepted
   */
  public static DriverMode parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("a driver mode is required; use " + FORMS);
    }
    String v = text.trim().toLowerCase(Locale.ROOT);
    int colon = v.indexOf(':');
    String name = colon < 0 ? v : v.substring(0, colon);
    String arg = colon < 0 ? null : v.substring(colon + 1);
    return switch (name) {
      case "enabled", "disabled", "uninstalled" -> {
        if (arg != null) {
          throw new IllegalArgumentException("driver mode " + name + " takes no parameter");
        }
        yield of(Kind.fromLabel(name));
      }
      case "late" -> {
        if (arg == null) {
          throw new IllegalArgumentException("driver mode late needs a delay, such as late:30s");
        }
        yield new DriverMode(Kind.LATE, SimDuration.parse(arg).toMillis(), 0, 1.0);
      }
      case "slow" -> new DriverMode(Kind.SLOW, 0, parseRate(arg), 1.0);
      case "stuck" -> new DriverMode(Kind.STUCK, 0, 0, arg == null ? 1.0 : parseProbability(arg));
      default -> throw new IllegalArgumentException("unknown driver mode '" + text + "'; use " + FORMS);
    };
  }

  /** The mode as users write it, which {@link #parse} reads back: {@code late:30s}, {@code stuck:0.1}. */
  @Override
  public String toString() {
    return switch (kind) {
      case LATE -> "late:" + formatMillis(lateMillis);
      case SLOW -> "slow:" + pagesPerSecond;
      case STUCK -> stuckProbability == 1.0 ? "stuck" : "stuck:" + stuckProbability;
      default -> kind.label();
    };
  }

  private static long parseRate(String arg) {
    long rate;
    try {
      rate = Long.parseLong(arg == null ? "" : arg);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("driver mode slow needs a rate in pages a second, such as slow:1000");
    }
    if (rate <= 0) {
      throw new IllegalArgumentException("driver mode slow needs a positive rate, got " + rate);
    }
    return rate;
  }

  private static double parseProbability(String arg) {
    double p;
    try {
      p = Double.parseDouble(arg);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("driver mode stuck takes a probability from 0 to 1, got '" + arg + "'");
    }
    if (!(p > 0 && p <= 1)) {
      throw new IllegalArgumentException("driver mode stuck takes a probability above 0 and at most 1, got " + arg);
    }
    return p;
  }

  /** The largest unit {@link SimDuration} reads that divides the delay exactly: {@code 2m}, {@code 90s}. */
  private static String formatMillis(long millis) {
    if (millis == 0) {
      return "0s";
    }
    if (millis % 3_600_000 == 0) {
      return millis / 3_600_000 + "h";
    }
    if (millis % 60_000 == 0) {
      return millis / 60_000 + "m";
    }
    return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
  }
}
