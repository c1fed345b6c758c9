package org.balloonlab.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PaceTest {
  @Test
  void readsMaxAndFactorsAsUsersWriteThem() {
    assertEquals(Pace.MAX, Pace.parse("max"));
    assertEquals(Pace.MAX, Pace.parse(" MAX "));
    assertEquals(1.0, Pace.parse("1x").factor());
    assertEquals(0.5, Pace.parse("0.5x").factor());
    assertEquals(10.0, Pace.parse("10").factor());
    assertEquals("max", Pace.MAX.toString());
    assertEquals("1x", Pace.parse("1x").toString());
    assertEquals("0.5x", Pace.parse("0.5X").toString());
    assertTrue(Pace.parse("max").isMax());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "fast", "0x", "-1x", "NaNx", "Infinityx", "2000000x", "1xx"})
  void refusesAnythingElse(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pace.parse(text));
    assertTrue(e.getMessage().contains("pace"), e.getMessage());
  }
}
