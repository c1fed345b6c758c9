package org.balloonlab.guest.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TokenTest {

  @ParameterizedTest(name = "vm{0}/asid{1}/vpn{2}/v{3}")
  @CsvSource({
      "1, 0, 0, 1",
      "3, 1, 42, 7",
      "4095, 255, 134217727, 65535",
      "17, 200, 1000000, 300"})
  void encodingRoundTripsThroughDescribe(int vm, int asid, int vpn, int version) {
    long token = Token.of(vm, asid, vpn, version);
    assertTrue(token < 0, "a private token has its top bit set");
    assertEquals("vm" + vm + "/asid" + asid + "/vpn" + vpn + "/v" + version, Token.describe(token));
  }

  @Test
  void fieldLimitsMatchTheLayout() {
    assertEquals(255, Token.MAX_ASID);
    assertEquals((1 << 27) - 1, Token.MAX_VPN);
  }

  @Test
  void versionZeroIsTheZeroPage() {
    assertEquals(0L, Token.of(5, 3, 99, 0));
    assertEquals("zero", Token.describe(0L));
  }

  @Test
  void aValueThatIsNoPrivateTokenIsShownInHex() {
    assertEquals("0x000000000000002a", Token.describe(42L));
  }

  @Test
  void theVmFieldKeepsTheLow12BitsOfTheId() {
    assertEquals("vm5/asid0/vpn1/v1", Token.describe(Token.of(4096 + 5, 0, 1, 1)));
    assertEquals(Token.of(5, 0, 1, 1), Token.of(4096 + 5, 0, 1, 1));
  }

  @Test
  void everyFieldChangesTheToken() {
    Set<Long> seen = new HashSet<>();
    for (int vm = 1; vm <= 3; vm++) {
      for (int asid = 0; asid < 3; asid++) {
        for (int vpn = 0; vpn < 3; vpn++) {
          for (int version = 1; version <= 3; version++) {
            assertTrue(seen.add(Token.of(vm, asid, vpn, version)), "duplicate token");
          }
        }
      }
    }
    assertEquals(81, seen.size());
  }

  @Test
  void versionsCountUpAndWrapSkippingZero() {
    assertEquals(1, Token.nextVersion((char) 0));
    assertEquals(2, Token.nextVersion((char) 1));
    assertEquals(65535, Token.nextVersion((char) 65534));
    assertEquals(1, Token.nextVersion((char) 65535), "wraps to 1, never to 0 (never written)");
    char v = 1;
    for (int i = 0; i < 65535; i++) {
      v = Token.nextVersion(v);
      assertNotEquals(0, v);
    }
    assertEquals(1, v, "65535 steps walk the whole cycle of non-zero versions");
  }

  @Test
  void belongsToAnotherVmOnlyForAnotherVmsPrivateToken() {
    assertFalse(Token.belongsToAnotherVm(Token.of(3, 1, 2, 1), 3), "our own token");
    assertTrue(Token.belongsToAnotherVm(Token.of(4, 1, 2, 1), 3));
    assertTrue(Token.belongsToAnotherVm(Token.of(4095, 0, 0, 1), 0));
    assertFalse(Token.belongsToAnotherVm(0L, 3), "a zero page belongs to no one");
    assertFalse(Token.belongsToAnotherVm(42L, 3), "not a private token");
    assertFalse(Token.belongsToAnotherVm(Token.of(3, 0, 0, 1), 3 + 4096), "ids 4096 apart alias, as documented");
  }

  @Test
  void contentTokensNeverCollideWithPrivateTokensOrZero() {
    int linux = Token.hashName("linux");
    for (int kind : new int[] {Token.KIND_OS_IMAGE, Token.KIND_DATA_SET}) {
      for (int index : new int[] {0, 1, Token.MAX_CONTENT_INDEX}) {
        long t = Token.content(kind, linux, index);
        assertNotEquals(0L, t, "never zero, even for page 0");
        assertTrue(t > 0, "bit 63 clear: never a private token");
        assertEquals(kind, Token.kind(t));
        assertFalse(Token.belongsToAnotherVm(t, 3), "shared content belongs to no VM");
      }
    }
    assertNotEquals(Token.content(Token.KIND_OS_IMAGE, linux, 5), Token.content(Token.KIND_DATA_SET, linux, 5));
    assertNotEquals(Token.content(Token.KIND_OS_IMAGE, linux, 5),
        Token.content(Token.KIND_OS_IMAGE, Token.hashName("windows"), 5));
    assertEquals(0, Token.kind(Token.of(3, 1, 2, 1)), "a private token has no content kind");
    assertEquals(0, Token.kind(0L));
    assertThrows(IllegalArgumentException.class, () -> Token.content(Token.KIND_FILE, linux, 0));
    assertThrows(IllegalArgumentException.class, () -> Token.content(Token.KIND_OS_IMAGE, linux, -1));
    assertThrows(IllegalArgumentException.class,
        () -> Token.content(Token.KIND_OS_IMAGE, linux, Token.MAX_CONTENT_INDEX + 1));
  }

  @Test
  void hashNameIsFnv1aAndStable() {
    assertEquals(0x811C9DC5, Token.hashName(""), "FNV-1a's offset basis");
    assertEquals(0xE40C292C, Token.hashName("a"));
    assertEquals(Token.hashName("linux"), Token.hashName(new String("linux")));
  }

  @Test
  void perVmContentTokensCarryTheirVm() {
    long file = Token.file(3, 10, 2);
    long kernel = Token.kernelData(3, 10);
    assertEquals(0L, Token.file(3, 10, 0), "a file page never written holds zeroes");
    assertNotEquals(file, Token.file(3, 10, 3));
    assertNotEquals(file, Token.file(4, 10, 2));
    assertNotEquals(file, kernel);
    assertFalse(Token.belongsToAnotherVm(file, 3));
    assertTrue(Token.belongsToAnotherVm(file, 4));
    assertFalse(Token.belongsToAnotherVm(kernel, 3));
    assertTrue(Token.belongsToAnotherVm(kernel, 4));
    assertTrue(file > 0 && kernel > 0);
    assertEquals("file/vm3/page10/v2", Token.describe(file));
    assertTrue(Token.describe(Token.content(Token.KIND_OS_IMAGE, 0xABCD, 7)).startsWith("image/0000abcd/page7"));
  }
}
