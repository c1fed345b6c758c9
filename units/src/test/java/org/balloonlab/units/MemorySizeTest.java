package org.balloonlab.units;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemorySizeTest {

  @Test
  void readsBinaryUnits() {
    assertEquals(512L << 20, MemorySize.parse("512MiB").bytes());
    assertEquals(4L << 30, MemorySize.parse("4GiB").bytes());
    assertEquals(4L << 30, MemorySize.parse("4g").bytes());
    assertEquals(16L << 10, MemorySize.parse("16KiB").bytes());
    assertEquals(4096, MemorySize.parse("4096").bytes());
    assertEquals(262144, MemorySize.parse("1GiB").pages());
  }

  @ParameterizedTest
  @ValueSource(strings = {"-1", "-512MiB", "", "  ", "12XB", "MiB", "1.5GiB", "99999999999999999999", "9999999999TiB"})
  void refusesWhatIsNotASize(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemorySize.parse(text));
    assertTrue(e.getMessage().length() > 10, e.getMessage());
  }

  @Test
  void requiresWholePages() {
    assertEquals(1, MemorySize.parse("4KiB").requirePages("--memory"));
    IllegalArgumentException zero =
        assertThrows(IllegalArgumentException.class, () -> MemorySize.parse("0").requirePages("--memory"));
    assertTrue(zero.getMessage().contains("--memory"));
    assertThrows(IllegalArgumentException.class, () -> MemorySize.parse("5000").requirePages("--memory"));
  }

  @Test
  void formatsInTheLargestUnit() {
    assertEquals("512MiB", MemorySize.parse("512MiB").toString());
    assertEquals("1.5GiB", MemorySize.humanPages(393216));
  }

  @Test
  void readsAddressesAndDurations() {
    assertEquals(new HostPort("localhost", 7400), HostPort.parse("localhost:7400"));
    assertEquals("[::1]:80", HostPort.parse("[::1]:80").target());
    assertThrows(IllegalArgumentException.class, () -> HostPort.parse("localhost"));
    assertThrows(IllegalArgumentException.class, () -> HostPort.parse("localhost:99999"));
    assertThrows(IllegalArgumentException.class, () -> HostPort.parse("localhost:abc"));
    assertEquals(Duration.ofMillis(250), SimDuration.parse("250ms"));
    assertEquals(Duration.ofMinutes(2), SimDuration.parse("2m"));
    assertThrows(IllegalArgumentException.class, () -> SimDuration.parse("-3s"));
    assertThrows(IllegalArgumentException.class, () -> SimDuration.parse("3 days"));
  }
}
