package org.balloonlab.lab.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A scenario reduced to its first guests, as an experiment's {@code --vms N} runs it. */
class ScenarioFirstGuestsTest {
  private static final String STAGGERED = """
      duration: 12s
      hypervisor: {memory: 64MiB}
      guests:
        - {name: vm1, memory: 8MiB, workload: "uniform:footprint=4MiB"}
        - {name: vm2, memory: 8MiB, workload: "uniform:footprint=4MiB", autostart: false}
        - {name: vm3, memory: 8MiB, workload: "uniform:footprint=4MiB", autostart: false}
      schedule:
        - {at: 1s, action: tau, tau: 0.5}
        - {at: 2s, action: balloon, vm: vm1, target: 4MiB}
        - {at: 4s, action: start, vm: vm2}
        - {at: 5s, action: balloon, vm: vm2, target: 4MiB}
        - {at: 8s, action: start, vm: vm3}
        - {at: 9s, action: driver, vm: vm1, mode: disabled}
      """;

  private static List<String> described(Scenario s) {
    return s.actions().stream().map(a -> a.at().toSeconds() + "s " + a.describe()).toList();
  }

  @Test
  void aStaggeredLabEndsWhereTheFirstGuestLeftOutWouldHaveStarted() throws ScenarioException {
    Scenario full = ScenarioParserTest.parse(STAGGERED);
    Scenario two = full.firstGuests(2);
    assertEquals(List.of("vm1", "vm2"), two.guests().stream().map(GuestSpec::name).toList());
    assertEquals(Duration.ofSeconds(8), two.duration());
    assertEquals(List.of("1s tau 0.5", "2s balloon vm1 4MiB", "4s start vm2", "5s balloon vm2 4MiB"),
        described(two));
    Scenario one = full.firstGuests(1);
    assertEquals(Duration.ofSeconds(4), one.duration());
    assertEquals(List.of("1s tau 0.5", "2s balloon vm1 4MiB"), described(one));
    assertEquals(full.hypervisor(), one.hypervisor());
    assertEquals("scenarios/t.yaml (its first 1 guests)", one.source());
    assertSame(full, full.firstGuests(3));
  }

  @Test
  void aLabWhoseGuestsAllStartWithItKeepsItsDuration() throws ScenarioException {
    Scenario full = ScenarioParserTest.parse("""
        duration: 20s
        hypervisor: {memory: 64MiB}
        guests:
          - {name: vm1, memory: 8MiB, workload: "uniform:footprint=4MiB"}
          - {name: vm2, memory: 8MiB, workload: "uniform:footprint=4MiB"}
        schedule:
          - {at: 3s, action: poweroff, vm: vm2}
        """);
    Scenario one = full.firstGuests(1);
    assertEquals(Duration.ofSeconds(20), one.duration());
    assertEquals(List.of(), one.actions());
  }

  @Test
  void itKeepsAtLeastOneGuestAndNoMoreThanItHas() throws ScenarioException {
    Scenario full = ScenarioParserTest.parse(STAGGERED);
    assertThrows(IllegalArgumentException.class, () -> full.firstGuests(0));
    assertThrows(IllegalArgumentException.class, () -> full.firstGuests(4));
  }
}
