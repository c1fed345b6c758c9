package org.balloonlab.guest.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HypervisorLossTest {
  private static final long HEARD = Instant.parse("2026-11-29T18:34:50.123Z").toEpochMilli();

  @ParameterizedTest
  @EnumSource(value = Status.Code.class, names = {"UNAVAILABLE", "DEADLINE_EXCEEDED"})
  void aBrokenOrSilentConnectionIsALoss(Status.Code code) {
    Optional<HypervisorLoss> loss = HypervisorLoss.from(Status.fromCode(code).withDescription("gone")
        .asRuntimeException(), "10.0.0.1:7400", HEARD, HEARD + 15_250);
    assertTrue(loss.isPresent());
    assertEquals("vm1 lost its hypervisor 10.0.0.1:7400 since 2026-11-29T18:34:50.123Z (its last answer; given up "
        + "15.3 s later: " + code + " gone)", loss.get().line("vm1"));
  }

  @ParameterizedTest
  @EnumSource(value = Status.Code.class, names = {"FAILED_PRECONDITION", "INVALID_ARGUMENT", "PERMISSION_DENIED",
      "ABORTED", "INTERNAL", "CANCELLED"})
  void aRefusalByAHypervisorThatIsStillThereIsNot(Status.Code code) {
    assertFalse(HypervisorLoss.from(Status.fromCode(code).asRuntimeException(), "h:1", HEARD, HEARD).isPresent());
  }

  @Test
  void aLongOrMultiLineDescriptionStaysOneShortLine() {
    String line = HypervisorLoss.from(Status.UNAVAILABLE.withDescription("x\n".repeat(100_000)).asRuntimeException(),
        "h:1", HEARD, 0).orElseThrow().line("vm1");
    assertFalse(line.contains("\n"), line);
    assertTrue(line.length() < 400, line);
  }

  @Test
  void withoutAFailureTimeTheLossIsNoticedNow() {
    long before = System.currentTimeMillis();
    HypervisorLoss loss = HypervisorLoss.from(Status.UNAVAILABLE.asRuntimeException(), "h:1", HEARD, 0)
        .orElseThrow();
    assertTrue(loss.noticedMillis() >= before);
  }
}
