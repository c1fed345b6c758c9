package org.balloonlab.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.balloonlab.domain.DriverMode.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DriverModeTest {

  @Test
  void readsEveryMode() {
    assertEquals(DriverMode.of(Kind.ENABLED), DriverMode.parse("enabled"));
    assertEquals(DriverMode.of(Kind.DISABLED), DriverMode.parse("DISABLED"));
    assertEquals(DriverMode.of(Kind.UNINSTALLED), DriverMode.parse(" uninstalled "));
    assertEquals(new DriverMode(Kind.LATE, 30_000, 0, 1.0), DriverMode.parse("late:30s"));
    assertEquals(new DriverMode(Kind.LATE, 250, 0, 1.0), DriverMode.parse("Late:250MS"));
    assertEquals(new DriverMode(Kind.SLOW, 0, 1000, 1.0), DriverMode.parse("slow:1000"));
    assertEquals(new DriverMode(Kind.STUCK, 0, 0, 1.0), DriverMode.parse("stuck"));
    assertEquals(new DriverMode(Kind.STUCK, 0, 0, 0.25), DriverMode.parse("stuck:0.25"));
    assertEquals(new DriverMode(Kind.STUCK, 0, 0, 1.0), DriverMode.parse("stuck:1"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "bogus        | unknown driver mode 'bogus'; use enabled, disabled, uninstalled, late:DURATION, "
          + "slow:PAGES_PER_SECOND or stuck[:PROBABILITY]",
      "late         | driver mode late needs a delay, such as late:30s",
      "late:soon    | cannot read 'soon' as a duration; write a whole number with ms, s, m or h, such as 30s",
      "late:        | a duration is required, such as 30s or 500ms",
      "slow         | driver mode slow needs a rate in pages a second, such as slow:1000",
      "slow:fast    | driver mode slow needs a rate in pages a second, such as slow:1000",
      "slow:0       | driver mode slow needs a positive rate, got 0",
      "slow:-5      | driver mode slow needs a positive rate, got -5",
      "stuck:x      | driver mode stuck takes a probability from 0 to 1, got 'x'",
      "stuck:0      | driver mode stuck takes a probability above 0 and at most 1, got 0",
      "stuck:2      | driver mode stuck takes a probability above 0 and at most 1, got 2",
      "enabled:1    | driver mode enabled takes no parameter",
      "disabled:yes | driver mode disabled takes no parameter",
      "uninstalled: | driver mode uninstalled takes no parameter"})
  void refusesWhatIsNotAModeSayingWhy(String text, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DriverMode.parse(text));
    assertEquals(message, e.getMessage());
  }

  @Test
  void anUnknownModeIsNamedAsTyped() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DriverMode.parse("Turbo:9"));
    assertTrue(e.getMessage().startsWith("unknown driver mode 'Turbo:9'; use "), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DriverMode.parse(null));
  }

  @ParameterizedTest
  @ValueSource(strings = {"enabled", "disabled", "uninstalled", "late:30s", "late:250ms", "late:2m", "late:1h",
      "late:90s", "late:0s", "slow:1000", "stuck", "stuck:0.1", "stuck:0.25"})
  void printsTheModeAsUsersWriteIt(String text) {
    assertEquals(text, DriverMode.parse(text).toString());
  }

  /** Every mode a user can write prints as text that parses back to the same mode. */
  @ParameterizedTest
  @ValueSource(strings = {"ENABLED", "Disabled", "uninstalled", "late:30000ms", "late:120s", "LATE:1500MS",
      "slow:7", "stuck:1", "stuck:0.5", "stuck:1e-3"})
  void formattedModesParseBackToTheSameMode(String written) {
    DriverMode mode = DriverMode.parse(written);
    assertEquals(mode, DriverMode.parse(mode.toString()));
    assertEquals(mode.toString(), mode.toString().toLowerCase(java.util.Locale.ROOT), "lower case, as users write");
    assertEquals(mode.kind().label(), String.valueOf(mode.kind()), "a kind prints as its label too");
  }

  @Test
  void printsOnlyTheParameterItsKindUses() {
    assertEquals("enabled", new DriverMode(Kind.ENABLED, 5, 6, 0).toString());
    assertEquals("late:1500ms", new DriverMode(Kind.LATE, 1500, 6, 0).toString());
    assertEquals("slow:10", new DriverMode(Kind.SLOW, 0, 10, 0).toString());
    assertEquals("stuck:0.5", new DriverMode(Kind.STUCK, 3, 0, 0.5).toString());
  }

  @Test
  void modesAreEqualOnlyWhenEveryFieldIs() {
    assertNotEquals(DriverMode.of(Kind.ENABLED), new DriverMode(Kind.ENABLED, 0, 0, 0));
    assertEquals(new DriverMode(Kind.SLOW, 0, 10, 0), new DriverMode(Kind.SLOW, 0, 10, 0));
    assertThrows(NullPointerException.class, () -> new DriverMode(null, 0, 0, 1));
  }

  @Test
  void kindsHaveTheLabelsUsersWrite() {
    for (Kind k : Kind.values()) {
      assertEquals(k, Kind.fromLabel(k.label()));
      assertEquals(k, DriverMode.parse(k.label() + (k == Kind.LATE ? ":1s" : k == Kind.SLOW ? ":1" : "")).kind());
    }
    assertEquals("uninstalled", Kind.UNINSTALLED.label());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kind.fromLabel("ENABLED"));
    assertEquals("unknown driver mode 'ENABLED'; known: enabled, disabled, uninstalled, late, slow, stuck",
        e.getMessage());
  }

  /** The parts a message on the wire carries are checked as the text is: the hypervisor refuses what is wrong. */
  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "slow without a rate, SLOW, 0, 0, 0.0, pages per second",
      "negative late time, LATE, -1, 0, 0.0, negative",
      "negative rate, SLOW, 0, -5, 0.0, negative",
      "probability below 0, STUCK, 0, 0, -0.1, probability",
      "probability above 1, STUCK, 0, 0, 1.0001, probability",
      "probability NaN, STUCK, 0, 0, NaN, probability",
      "infinite probability, STUCK, 0, 0, Infinity, probability"})
  void badPartsAreRefused(String what, Kind kind, long late, long rate, double p, String fragment) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DriverMode.checked(kind, late, rate, p));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
  }

  @Test
  void goodPartsAreKeptAndAnUnsetStuckProbabilityHangsAtOnce() {
    for (Kind k : Kind.values()) {
      assertEquals(k, DriverMode.checked(k, 0, k == Kind.SLOW ? 1 : 0, 0).kind());
    }
    assertEquals(1000, DriverMode.checked(Kind.LATE, 1000, 0, 0).lateMillis());
    assertEquals(1.0, DriverMode.checked(Kind.STUCK, 0, 0, 0).stuckProbability());
    assertEquals(0.25, DriverMode.checked(Kind.STUCK, 0, 0, 0.25).stuckProbability());
    assertThrows(IllegalArgumentException.class, () -> DriverMode.checked(null, 0, 0, 0));
  }
}
