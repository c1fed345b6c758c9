package org.balloonlab.guest.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ActivityScheduleTest {
  private static final long S = 1_000_000_000L;

  @Test
  void aScheduleWhoseLastEntryLastsForEver() {
    ActivitySchedule s = ActivitySchedule.parse("idle:30s/active:60s/idle");
    assertFalse(s.activeAt(0));
    assertFalse(s.activeAt(30 * S - 1));
    assertTrue(s.activeAt(30 * S));
    assertTrue(s.activeAt(90 * S - 1));
    assertFalse(s.activeAt(90 * S));
    assertFalse(s.activeAt(1_000 * S));
    assertEquals(0, s.activeNsBefore(30 * S));
    assertEquals(10 * S, s.activeNsBefore(40 * S));
    assertEquals(60 * S, s.activeNsBefore(500 * S));
    assertEquals(30 * S, s.timeAtActive(0), "the first active instant");
    assertEquals(45 * S, s.timeAtActive(15 * S));
    assertEquals(Long.MAX_VALUE, s.timeAtActive(60 * S), "never active again");
    assertEquals(30 * S, s.nextSwitchAfter(0));
    assertEquals(90 * S, s.nextSwitchAfter(30 * S));
    assertEquals(Long.MAX_VALUE, s.nextSwitchAfter(90 * S));
  }

  @Test
  void aScheduleWithEveryLengthRepeats() {
    ActivitySchedule s = ActivitySchedule.parse("active:20ms/idle:30ms");
    long ms = 1_000_000L;
    assertTrue(s.activeAt(0));
    assertFalse(s.activeAt(20 * ms));
    assertTrue(s.activeAt(50 * ms), "the second cycle");
    assertEquals(40 * ms, s.activeNsBefore(100 * ms));
    assertEquals(25 * ms, s.activeNsBefore(55 * ms));
    assertEquals(50 * ms, s.timeAtActive(20 * ms), "active time 20 ms is reached at the start of the next cycle");
    assertEquals(55 * ms, s.timeAtActive(25 * ms));
    assertEquals(70 * ms, s.nextSwitchAfter(55 * ms));
    assertEquals(100 * ms, s.nextSwitchAfter(70 * ms));
  }

  @ParameterizedTest
  @CsvSource(delimiter = ';', value = {
      "busy:10s; must be active:DURATION or idle:DURATION",
      "idle/active:10s; needs a length",
      "idle:ten/active; the length must be a whole number",
      "idle:0s/active; must last more than 0",
      "idle:10s/idle:5s; never turns active",
      "'' ; must be active:DURATION or idle:DURATION"})
  void refusesWhatItCannotRun(String text, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ActivitySchedule.parse(text));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @Test
  void isAWorkloadKey() {
    assertEquals("idle:30s/active", WorkloadSpec.parse("hotset:footprint=1MiB,schedule=idle:30s/active").schedule()
        .toString());
    assertNull(WorkloadSpec.parse("hotset:footprint=1MiB").schedule());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> WorkloadSpec.parse("idle:footprint=1MiB,schedule=active"));
    assertTrue(e.getMessage().contains("has no option 'schedule'"), e.getMessage());
  }
}
