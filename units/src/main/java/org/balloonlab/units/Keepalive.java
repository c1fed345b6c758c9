package org.balloonlab.units;

import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 keepalive of BalloonLab's gRPC connections, so a silent network partition (no FIN, no RST: a cable
 * pulled, a firewall dropping packets, a machine frozen) is noticed on both sides instead of leaving a guest hung
 * and its VM attached for as long as it lasts.
 *
 * <p>A side that has read nothing on a connection for {@link #time()} sends a PING and gives the connection up if
 * no answer comes within {@link #timeout()}: every call on it then fails with {@code UNAVAILABLE}. So a connection
 * that went silent is noticed at most {@link #detection()} after the last bytes it carried. These are wall-clock
 * durations: they are about the network, never about the model.
 *
 * <p>gRPC refuses to ping more often than every 10 s ({@link #MIN_TIME}; it would raise a shorter time to that),
 * and a server by default tells clients that ping more often than every 5 minutes to calm down
 * ({@code ENHANCE_YOUR_CALM}) and closes their connection. So servers {@link #applyTo(ServerBuilder) permit}
 * pings every {@link #PERMIT_TIME}, half the floor, whatever their own setting: a client with any valid
 * setting is accepted.
 *
 * <p>Written {@code TIME} or {@code TIME,TIMEOUT} on a command line ({@code --keepalive 10s} or
 * {@code --keepalive 30s,10s}); the timeout defaults to {@link #DEFAULT_TIMEOUT}, and to the time if that is less.
 *
 * @param time how long a connection may carry nothing before a ping is sent
 * @param timeout how long the ping's answer may take before the connection is given up
 */
public record Keepalive(Duration time, Duration timeout) {
  /** The shortest time gRPC accepts between pings. */
  public static final Duration MIN_TIME = Duration.ofSeconds(10);
  /** gRPC's own default when keepalive is on; longer makes no sense for noticing a partition. */
  public static final Duration MAX_TIME = Duration.ofHours(2);
  /**
   * The shortest timeout accepted: an answer to a ping can be late by a garbage collection or a loaded machine, and
   * a timeout shorter than that would cut connections that are fine.
   */
  public static final Duration MIN_TIMEOUT = Duration.ofSeconds(1);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  /** How often a server lets a client ping: half of {@link #MIN_TIME}, so network jitter never counts as abuse. */
  public static final Duration PERMIT_TIME = MIN_TIME.dividedBy(2);
  /** Every BalloonLab process's default: a partition is noticed within 15 s of wall time. */
  public static final Keepalive DEFAULT = new Keepalive(MIN_TIME, DEFAULT_TIMEOUT);
  /** The longest text {@link #parse} echoes in its error messages. */
  private static final int MAX_ECHO = 40;

  /** @throws IllegalArgumentException if a duration is outside its bounds, saying which and what they are */
  public Keepalive {
    if (time == null || timeout == null) {
      throw new IllegalArgumentException("a keepalive needs a time and a timeout");
    }
    if (time.compareTo(MIN_TIME) < 0 || time.compareTo(MAX_TIME) > 0) {
      throw new IllegalArgumentException("the keepalive time must be from " + describe(MIN_TIME) + " (gRPC pings no "
          + "more often) to " + describe(MAX_TIME) + ", got " + describe(time));
    }
    if (timeout.compareTo(MIN_TIMEOUT) < 0 || timeout.compareTo(time) > 0) {
      throw new IllegalArgumentException("the keepalive timeout must be from " + describe(MIN_TIMEOUT) + " to the "
          + "keepalive time (" + describe(time) + "), got " + describe(timeout));
    }
  }

  /**
   * Reads {@code TIME} or {@code TIME,TIMEOUT}, such as {@code 10s} or {@code 30s,10s}.
   *
   * @throws IllegalArgumentException naming what is wrong (the text is echoed only up to 40 characters)
   */
  public static Keepalive parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("a keepalive is required, such as 10s or 30s,10s");
    }
    String[] parts = text.trim().split(",", -1);
    if (parts.length > 2) {
      throw new IllegalArgumentException("cannot read '" + echo(text) + "' as a keepalive; write TIME or "
          + "TIME,TIMEOUT, such as 10s or 30s,10s");
    }
    Duration time = SimDuration.parse(echo(parts[0]));
    Duration timeout = parts.length == 2 ? SimDuration.parse(echo(parts[1]))
        : time.compareTo(DEFAULT_TIMEOUT) < 0 ? time : DEFAULT_TIMEOUT;
    return new Keepalive(time, timeout);
  }

  /** The longest a dead connection goes unnoticed after the last bytes it carried: time plus timeout. */
  public Duration detection() {
    return time.plus(timeout);
  }

  /**
   * Sets this keepalive on a client channel. Pings go only while a call is open: a channel with nothing to wait
   * for has nothing to notice.
   *
   * @return the builder, for chaining
   */
  public <T extends ManagedChannelBuilder<T>> T applyTo(T channel) {
    return channel.keepAliveTime(time.toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveWithoutCalls(false);
  }

  /**
   * Sets this keepalive on a server, and lets clients ping as often as gRPC lets any client (every
   * {@link #PERMIT_TIME}, with or without a call open) so the server never closes a client's connection for
   * pinging.
   *
   * @return the builder, for chaining
   */
  public <T extends ServerBuilder<T>> T applyTo(T server) {
    return server.keepAliveTime(time.toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveTime(PERMIT_TIME.toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveWithoutCalls(true);
  }

  /** As written on a command line: {@code 10s,5s}. */
  @Override
  public String toString() {
    return describe(time) + "," + describe(timeout);
  }

  private static String describe(Duration d) {
    if (d.isZero() || d.isNegative() || d.toMillis() % 1000 != 0) {
      return d.toMillis() + "ms";
    }
    long s = d.toSeconds();
    return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
  }

  private static String echo(String text) {
    return text.length() <= MAX_ECHO ? text : text.substring(0, MAX_ECHO) + "...";
  }
}
