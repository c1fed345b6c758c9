package org.balloonlab.hypervisor.grpc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.balloonlab.domain.VmName;
import org.balloonlab.units.SimDuration;

/**
 * Faults the hypervisor injects on purpose ({@code --inject}), for tests and for users who study how a lab
 * survives them. One kind so far:
 *
 * <p>{@code delay-lock-reply=VM:N:DURATION}: the Nth balloon Lock of VM {@code VM} that reaches its turn (1 is the
 * first) is applied as usual, then its answer is held back for {@code DURATION} of wall time. Longer than the
 * driver's deadline (5 s on a hypervisor that runs free, 2 min under the lab clock), the answer is lost to the
 * driver, which must retry the same request and learn what the hypervisor holds rather than drop the pages
 * ({@code balloon.proto}, {@code BalloonPagesRequest.request_id}). The wait is wall time because it is a network
 * fault: nothing in the model waits for it.
 *
 * <p>Thread-safe: Locks of different VMs count on the transport's or the clock's thread.
 */
public final class InjectedFaults {
  /** How {@code --inject} is written, for messages and help. */
  public static final String FORMAT = "delay-lock-reply=VM:N:DURATION";
  private static final Pattern DELAY_LOCK_REPLY =
      Pattern.compile("delay-lock-reply=([^:]{1,64}):(\\d{1,9}):(\\S{1,20})");
  private static final Duration MOST_DELAY = Duration.ofHours(1);

  /** One held-back Lock answer. */
  private record DelayLockReply(String vm, long nth, Duration delay) {}

  private final List<DelayLockReply> delays;
  // Guarded by this: Locks counted per injected fault, in the order of delays.
  private final long[] locksSeen;

  private InjectedFaults(List<DelayLockReply> delays) {
    this.delays = List.copyOf(delays);
    this.locksSeen = new long[delays.size()];
  }

  /** No faults. */
  public static InjectedFaults none() {
    return new InjectedFaults(List.of());
  }

  /**
   * Parses the {@code --inject} values.
   *
   * @throws IllegalArgumentException saying which value is wrong and how it is written
   */
  public static InjectedFaults parse(List<String> specs) {
    List<DelayLockReply> delays = new ArrayList<>();
    for (String spec : specs) {
      Matcher m = DELAY_LOCK_REPLY.matcher(spec == null ? "" : spec);
      if (!m.matches()) {
        throw new IllegalArgumentException("--inject must be " + FORMAT + " (VM a VM name, N >= 1 the Nth Lock, "
            + "DURATION such as 10s), got " + VmName.quote(spec));
      }
      String vm = m.group(1);
      if (!VmName.isValid(vm)) {
        throw new IllegalArgumentException("--inject: the VM name must be " + VmName.RULE + ", got "
            + VmName.quote(vm));
      }
      long nth = Long.parseLong(m.group(2));
      if (nth < 1) {
        throw new IllegalArgumentException("--inject: N counts Locks from 1, got " + nth);
      }
      Duration delay;
      try {
        delay = SimDuration.parse(m.group(3));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--inject: " + e.getMessage(), e);
      }
      if (delay.isZero() || delay.compareTo(MOST_DELAY) > 0) {
        throw new IllegalArgumentException("--inject: the delay must be from 1 ms to 1 h, got " + m.group(3));
      }
      delays.add(new DelayLockReply(vm, nth, delay));
    }
    return new InjectedFaults(delays);
  }

  /** Whether any fault is injected. */
  public boolean any() {
    return !delays.isEmpty();
  }

  /**
   * Counts a Lock of {@code vmName} that reached its turn; answers how long its answer is held back, in wall
   * nanoseconds, 0 for not at all.
   */
  synchronized long lockReplyDelayNanos(String vmName) {
    long delay = 0;
    for (int i = 0; i < delays.size(); i++) {
      DelayLockReply d = delays.get(i);
      if (d.vm().equals(vmName) && ++locksSeen[i] == d.nth()) {
        delay = Math.max(delay, d.delay().toNanos());
      }
    }
    return delay;
  }

  @Override
  public String toString() {
    List<String> out = new ArrayList<>();
    for (DelayLockReply d : delays) {
      out.add("delay-lock-reply=" + d.vm() + ":" + d.nth() + ":" + d.delay().toMillis() + "ms");
    }
    return String.join(", ", out);
  }
}
