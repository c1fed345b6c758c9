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
    assertEquals(DriverMode.DRIVER_MODE_ENABLED, DriverCommand.parse("enabled").getMode());
    assertEquals(DriverMode.DRIVER_MODE_DISABLED, DriverCommand.parse("disabled").getMode());
    assertEquals(DriverMode.DRIVER_MODE_UNINSTALLED, DriverCommand.parse("uninstalled").getMode());
    DriverModeRequest late = DriverCommand.parse("late:2m");
    assertEquals(DriverMode.DRIVER_MODE_LATE, late.getMode());
    assertEquals(120_000, late.getLateMs());
    assertEquals(500, DriverCommand.parse("slow:500").getPagesPerSecond());
    assertEquals(1.0, DriverCommand.parse("stuck").getStuckProbability());
    assertEquals(0.1, DriverCommand.parse("stuck:0.1").getStuckProbability());
  }

  @ParameterizedTest
  @ValueSource(strings = {"bogus", "late", "slow", "slow:fast", "stuck:x"})
  void refusesWhatIsNotAMode(String text) {
    assertThrows(IllegalArgumentException.class, () -> DriverCommand.parse(text));
  }

  @Test
  void selectsByIdOrName() {
    assertEquals(7, ManagementClient.select("7").getVmId());
    assertEquals("vm7", ManagementClient.select("vm7").getName());
  }
}
