package org.balloonlab.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyNamesTest {

  @Test
  void knowsEsxAndManualExactly() {
    assertEquals(List.of("esx", "manual"), PolicyNames.ALL);
    assertTrue(PolicyNames.isKnown("esx"));
    assertTrue(PolicyNames.isKnown("manual"));
    assertFalse(PolicyNames.isKnown("ESX"));
    assertFalse(PolicyNames.isKnown("mom"));
    assertFalse(PolicyNames.isKnown(null));
    assertEquals("esx or manual", PolicyNames.CHOICES);
  }
}
