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
