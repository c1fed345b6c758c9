package org.balloonlab.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TokenTest {
  @Test
  void generatedTokensCarry256BitsInTheUrlSafeAlphabet() {
    Token a = Token.generate();
    Token b = Token.generate();
    assertEquals(43, a.reveal().length());
    assertTrue(a.reveal().matches("[A-Za-z0-9_-]{43}"));
    assertNotEquals(a.reveal(), b.reveal());
    assertTrue(Token.isWellFormed(a.reveal()));
  }

  @Test
  void matchesOnlyItself() {
    Token t = Token.parse("abcdefghijklmnopqrstuvwxyz", "test");
    assertTrue(t.matches("abcdefghijklmnopqrstuvwxyz"));
    assertFalse(t.matches("abcdefghijklmnopqrstuvwxyZ"));
    assertFalse(t.matches("abcdefghijklmnopqrstuvwxy"));
    assertFalse(t.matches(""));
  }

  @Test
  void parseStripsLineEnds() {
    assertTrue(Token.parse("  abcdefghijklmnop\n", "x").matches("abcdefghijklmnop"));
  }

  @Test
  void badTokensAreRefusedWithoutEchoingThem() {
    IllegalArgumentException shortOne = assertThrows(IllegalArgumentException.class,
        () -> Token.parse("secret", "the lab token in $BALLOONLAB_LAB_TOKEN"));
    assertEquals("the lab token in $BALLOONLAB_LAB_TOKEN must be 16 to 256 characters long, got 6",
        shortOne.getMessage());
    String huge = "A".repeat(100_000);
    IllegalArgumentException longOne = assertThrows(IllegalArgumentException.class, () -> Token.parse(huge, "t"));
    assertEquals("t must be 16 to 256 characters long, got more than 256", longOne.getMessage());
    IllegalArgumentException badChar = assertThrows(IllegalArgumentException.class,
        () -> Token.parse("abcdefgh/jklmnopqrst", "t"));
    assertEquals("t may hold only the characters A-Z a-z 0-9 _ - (character 9 is not one of them)",
        badChar.getMessage());
    assertEquals("t is empty", assertThrows(IllegalArgumentException.class, () -> Token.parse(" \n", "t"))
        .getMessage());
  }

  @Test
  void toStringHidesTheValue() {
    Token t = Token.generate();
    assertFalse(t.toString().contains(t.reveal()));
  }
}
