package org.balloonlab.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VmNameTest {

  @ParameterizedTest
  @ValueSource(strings = {"vm1", "a", "web-01.prod_eu", "A.B-C_9",
      "x123456789x123456789x123456789x123456789x123456789x123456789abcd"})
  void acceptsShortNamesOfLettersDigitsDotsUnderscoresAndDashes(String name) {
    assertTrue(VmName.isValid(name));
    assertEquals(name, VmName.require(name));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "vm 1", "vm/1", "vm:1", "ünï", "vm1\n",
      "x123456789x123456789x123456789x123456789x123456789x123456789abcde"})
  void refusesAnythingElse(String name) {
    assertFalse(VmName.isValid(name));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VmName.require(name));
    assertEquals("VM name must be 1-64 characters of letters, digits, '.', '_' or '-', got "
        + VmName.quote(name), e.getMessage());
  }

  @Test
  void aMessageNeverEchoesMoreThanTheStartOfALongName() {
    String huge = "x".repeat(1 << 20);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VmName.require(huge));
    assertTrue(e.getMessage().length() < 200, e.getMessage().length() + " characters");
    assertTrue(e.getMessage().endsWith("...' (1048576 characters)"), e.getMessage());
    assertEquals("'vm1'", VmName.quote("vm1"));
  }

  @Test
  void nullIsNoName() {
    assertFalse(VmName.isValid(null));
    assertThrows(IllegalArgumentException.class, () -> VmName.require(null));
  }

  @Test
  void naturalOrderCountsRunsOfDigitsByValue() {
    List<String> expected = List.of("db", "db2", "vm", "vm01", "vm1", "vm2", "vm9", "vm10", "vm10a", "vm10b", "vm11",
        "vm100", "vm99999999999999999999", "vm100000000000000000000", "web-2.a", "web-10");
    List<String> shuffled = new ArrayList<>(expected);
    Collections.reverse(shuffled);
    shuffled.sort(VmName.NATURAL_ORDER);
    assertEquals(expected, shuffled);
    assertTrue(VmName.NATURAL_ORDER.compare("vm2", "vm10") < 0, "vm2 before vm10");
    assertEquals(0, VmName.NATURAL_ORDER.compare("vm7", "vm7"));
    assertTrue(VmName.NATURAL_ORDER.compare("vm01", "vm1") != 0, "consistent with equals");
  }
}
