package org.balloonlab.swap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** What a swap device does when its storage fails under it. */
class SwapDeviceFailureTest {
  private final FailingSlotStore store = new FailingSlotStore(8);
  private final SwapDevice swap = new SwapDevice(Path.of("/swap/test.swap"), store, 8);

  @Test
  void aFailedWriteStoresNothingAndFailsTheDeviceForGood() {
    assertEquals(0, swap.pageOut(10L));
    store.failWrites = true;
    SwapIoException e = assertThrows(SwapIoException.class, () -> swap.pageOut(11L));
    assertEquals(SwapIoException.Operation.WRITE, e.operation());
    assertEquals(1, e.slot());
    assertEquals("swap write to /swap/test.swap failed at slot 1: Input/output error", e.getMessage());
    assertEquals(1, swap.usedSlots(), "the page that could not be written holds no slot");
    assertTrue(swap.failed());
    assertSame(e, swap.failure());
    assertEquals(0, swap.freeSlots(), "a failed device takes no more page-outs");

    store.failWrites = false;
    assertEquals(-1, swap.pageOut(12L), "even once the storage would answer again");
    assertEquals(10L, swap.pageIn(0), "pages written before the failure are still read back");
    assertEquals(0, swap.usedSlots());
    assertEquals(0, swap.freeSlots());
  }

  @Test
  void aFailedReadKeepsTheSlotForItsOwnerToReleaseAndFailsTheDevice() {
    int slot = swap.pageOut(42L);
    int other = swap.pageOut(43L);
    store.failReads = true;
    SwapIoException e = assertThrows(SwapIoException.class, () -> swap.pageIn(slot));
    assertEquals(SwapIoException.Operation.READ, e.operation());
    assertEquals(slot, e.slot());
    assertTrue(e.getMessage().startsWith("swap read from /swap/test.swap failed at slot 0"), e.getMessage());
    assertEquals(2, swap.usedSlots());
    assertTrue(swap.failed());
    assertEquals(-1, swap.pageOut(1L));
    swap.release(slot);
    store.failReads = false;
    assertEquals(43L, swap.pageIn(other));
    assertEquals(0, swap.usedSlots());
  }

  @Test
  void closeClosesTheStorage() {
    swap.close();
    assertTrue(store.closed);
    assertFalse(swap.failed());
  }
}
