package org.balloonlab.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.balloonlab.proto.DriverMode;
import org.balloonlab.proto.DriverModeRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DriverCommandTest {

  @Test
  void readsEveryMode() {
    assertEquals(DriverMode.DRIVER_MODE_ENABLED, DriverModes.parse("enabled").getMode());
    assertEquals(DriverMode.DRIVER_MODE_DISABLED, DriverModes.parse("disabled").getMode());
    assertEquals(DriverMode.DRIVER_MODE_UNINSTALLED, DriverModes.parse("uninstalled").getMode());
    DriverModeRequest late = DriverModes.parse("late:2m");
    assertEquals(DriverMode.DRIVER_MODE_LATE, late.getMode());
    assertEquals(120_000, late.getLateMs());
    assertEquals(500, DriverModes.parse("slow:500").getPagesPerSecond());
    assertEquals(1.0, DriverModes.parse("stuck").getStuckProbability());
    assertEquals(0.1, DriverModes.parse("stuck:0.1").getStuckProbability());
  }

  /** The domain's kinds and the wire's enum name the same modes in the same order: every module maps by number. */
  @Test
  void theDomainsKindsNumberTheWiresModes() {
    for (org.balloonlab.domain.DriverMode.Kind k : org.balloonlab.domain.DriverMode.Kind.values()) {
      DriverMode wire = DriverMode.forNumber(k.wireNumber());
      assertEquals("DRIVER_MODE_" + k.name(), wire.name());
      assertEquals(k, org.balloonlab.domain.DriverMode.Kind.fromWireNumber(wire.getNumber()));
    }
    assertEquals(org.balloonlab.domain.DriverMode.Kind.values().length + 2, DriverMode.values().length,
        "the wire has the same kinds, plus unspecified and unrecognized");
    assertEquals(null, org.balloonlab.domain.DriverMode.Kind.fromWireNumber(0));
  }

  @ParameterizedTest
  @ValueSource(strings = {"bogus", "late", "slow", "slow:fast", "stuck:x"})
  void refusesWhatIsNotAMode(String text) {
    assertThrows(IllegalArgumentException.class, () -> DriverModes.parse(text));
  }

  @Test
  void selectsByIdOrName() {
    assertEquals(7, ManagementClient.select("7").getVmId());
    assertEquals("vm7", ManagementClient.select("vm7").getName());
  }
}
