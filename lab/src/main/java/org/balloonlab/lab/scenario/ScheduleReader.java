package org.balloonlab.lab.scenario;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.balloonlab.units.MemorySize;

/**
 * The {@code schedule} of a scenario: each item read into a {@link ScheduledAction}, then the whole schedule
 * checked against the guests and the run (a known VM, before the end, a {@code start} only for a guest that does
 * not start by itself, a balloon target within the guest's memory). A {@code tau} action without a VM sets the
 * machine's rate.
 */
final class ScheduleReader {
  private ScheduleReader() {}

  /** One item: {@code {at: 10s, action: driver, vm: vm1, mode: disabled}}; null if it could not be read. */
  static ScheduledAction action(YamlFields f) {
    Duration at = f.duration("at", true, Duration.ZERO);
    String kindText = f.choice("action", true, List.of("driver", "balloon", "poweroff", "kill", "start", "tau"));
    ScheduledAction.Kind kind = kindText == null ? null : ScheduledAction.Kind.valueOf(kindText.toUpperCase(
        Locale.ROOT));
    // Only tau may leave the VM out: it then sets the machine's rate.
    String vm = f.string("vm", kind != ScheduledAction.Kind.TAU, kind == ScheduledAction.Kind.TAU ? "" : null);
    String argument = "";
    if (kind == ScheduledAction.Kind.TAU) {
      Double tau = f.number("tau", true, 0, 0.99);
      argument = tau == null ? null : tau.toString();
    } else if (kind == ScheduledAction.Kind.DRIVER) {
      argument = ScenarioParser.driverMode(f, "mode", true);
    } else if (kind == ScheduledAction.Kind.BALLOON) {
      MemorySize target = f.size("target", true);
      argument = target == null ? null : target.toString();
    }
    f.finish();
    if (at == null || kind == null || vm == null || argument == null) {
      return null;
    }
    return new ScheduledAction(at, kind, vm, argument, f.line());
  }

  private static void checkTime(ScheduledAction a, String field, Duration duration, Problems problems) {
    if (duration != null && a.at().compareTo(duration) >= 0) {
      problems.add(a.line(), field + ".at: " + a.at().toMillis() / 1000.0 + "s is not before the end of the run "
          + "(duration " + duration.toSeconds() + "s)");
    }
  }

  /**
   * The actions a guest's own fields ask for when it powers on ({@code tau}, {@code balloon-target}): at lab time
   * 0 for a guest that starts with the lab, which the launcher applies while it holds the clock at 0 once every
   * guest is attached, so before any quantum; at its first scheduled {@code start} otherwise, right after it.
   * A guest never started gets none.
   */
  static List<ScheduledAction> atPowerOn(List<GuestSpec> guests, List<ScheduledAction> actions) {
    List<ScheduledAction> added = new ArrayList<>();
    for (GuestSpec g : guests) {
      if (g.tau() == null && g.balloonTarget() == null) {
        continue;
      }
      Duration at = g.autostart() ? Duration.ZERO : actions.stream()
          .filter(a -> a.kind() == ScheduledAction.Kind.START && a.vm().equals(g.name()))
          .map(ScheduledAction::at).min(Duration::compareTo).orElse(null);
      if (at == null) {
        continue;
      }
      if (g.balloonTarget() != null) {
        added.add(new ScheduledAction(at, ScheduledAction.Kind.BALLOON, g.name(), g.balloonTarget().toString(), 0));
      }
      if (g.tau() != null) {
        added.add(new ScheduledAction(at, ScheduledAction.Kind.TAU, g.name(), g.tau().toString(), 0));
      }
    }
    return added;
  }

  /** Checks the actions that could be read against the guests and the run's duration (if it could be read). */
  static void check(List<GuestSpec> guests, List<ScheduledAction> actions, Duration duration, Problems problems) {
    Map<String, GuestSpec> byName = new LinkedHashMap<>();
    guests.forEach(g -> byName.putIfAbsent(g.name(), g));
    for (int i = 0; i < actions.size(); i++) {
      ScheduledAction a = actions.get(i);
      String field = "schedule[" + i + "]";
      if (a.kind() == ScheduledAction.Kind.TAU && a.vm().isEmpty()) {
        checkTime(a, field, duration, problems);
        continue;
      }
      GuestSpec g = byName.get(a.vm());
      if (g == null) {
        problems.add(a.line(), field + ".vm: \"" + a.vm() + "\" is not one of the guests ("
            + String.join(", ", byName.keySet()) + ")");
        continue;
      }
      checkTime(a, field, duration, problems);
      if (a.kind() == ScheduledAction.Kind.START && g.autostart()) {
        problems.add(a.line(), field + ".action: " + g.name() + " starts at the beginning; give it autostart: false "
            + "to start it later");
      }
      if (a.kind() == ScheduledAction.Kind.BALLOON && MemorySize.parse(a.argument()).bytes() > g.memory().bytes()) {
        problems.add(a.line(), field + ".target: " + a.argument() + " is more than " + g.name() + "'s memory ("
            + g.memory() + ")");
      }
    }
  }
}
