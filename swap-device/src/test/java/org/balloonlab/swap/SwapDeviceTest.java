package org.balloonlab.swap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SwapDeviceTest {
  @TempDir
  Path dir;

  private SwapDevice swap;

  private SwapDevice open(int slots) {
    swap = new SwapDevice(dir.resolve("host.swap"), slots);
    return swap;
  }

  @AfterEach
  void close() {
    if (swap != null) {
      swap.close();
    }
  }

  @Test
  void refusesASwapWithoutSlots() {
    assertThrows(IllegalArgumentException.class, () -> new SwapDevice(dir.resolve("none.swap"), 0));
    assertFalse(Files.exists(dir.resolve("none.swap")));
  }

  @Test
  void createsTheFileAndItsParentDirectories() {
    Path file = dir.resolve("a/b/host.swap");
    swap = new SwapDevice(file, 4);
    assertTrue(Files.isRegularFile(file));
    assertEquals(file, swap.file());
    assertEquals(4, swap.slots());
    assertEquals(0, swap.usedSlots());
    assertEquals(4, swap.freeSlots());
  }

  @Test
  void pageOutThenPageInRoundTripsEveryToken() {
    SwapDevice s = open(8);
    long[] tokens = {0L, 1L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 0x0123_4567_89AB_CDEFL};
    int[] slots = new int[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      slots[i] = s.pageOut(tokens[i]);
      assertEquals(i, slots[i], "next-fit hands out consecutive slots");
    }
    assertEquals(tokens.length, s.usedSlots());
    assertEquals(8 - tokens.length, s.freeSlots());
    // Read back in another order than written.
    for (int i = tokens.length - 1; i >= 0; i--) {
      assertEquals(tokens[i], s.pageIn(slots[i]));
    }
    assertEquals(0, s.usedSlots());
    assertEquals(8, s.freeSlots());
  }

  @Test
  void tokensReallyLiveInTheFile() throws IOException {
    SwapDevice s = open(4);
    s.pageOut(11L);
    int slot = s.pageOut(0x1122_3344_5566_7788L);
    assertEquals(1, slot);
    byte[] bytes = Files.readAllBytes(swap.file());
    assertTrue(bytes.length >= (slot + 1) * Long.BYTES, "file holds " + bytes.length + " bytes");
    assertEquals(11L, ByteBuffer.wrap(bytes, 0, Long.BYTES).getLong());
    assertEquals(0x1122_3344_5566_7788L, ByteBuffer.wrap(bytes, slot * Long.BYTES, Long.BYTES).getLong());
  }

  @Test
  void fullSwapAnswersMinusOneAndReleasedSlotsAreReused() {
    SwapDevice s = open(3);
    assertEquals(0, s.pageOut(100L));
    assertEquals(1, s.pageOut(101L));
    assertEquals(2, s.pageOut(102L));
    assertEquals(-1, s.pageOut(103L));
    assertEquals(3, s.usedSlots());
    assertEquals(0, s.freeSlots());

    s.release(1);
    assertEquals(2, s.usedSlots());
    assertEquals(1, s.pageOut(201L), "the only free slot is reused");
    assertEquals(-1, s.pageOut(202L));
    // The reused slot holds the new token; the others kept theirs.
    assertEquals(201L, s.pageIn(1));
    assertEquals(100L, s.pageIn(0));
    assertEquals(102L, s.pageIn(2));
    assertEquals(0, s.usedSlots());
  }

  @Test
  void nextFitWrapsAroundAcrossBitmapWords() {
    SwapDevice s = open(70);
    for (int i = 0; i < 70; i++) {
      assertEquals(i, s.pageOut(1000L + i));
    }
    assertEquals(-1, s.pageOut(1L));
    s.release(66);
    s.release(5);
    // The cursor wrapped to 0 after the last slot, so the search finds 5 first, then 66.
    assertEquals(5, s.pageOut(5005L));
    assertEquals(66, s.pageOut(5066L));
    assertEquals(-1, s.pageOut(1L));
    assertEquals(5005L, s.pageIn(5));
    assertEquals(5066L, s.pageIn(66));
    assertEquals(1069L, s.pageIn(69));
    assertEquals(1064L, s.pageIn(64));
    assertEquals(66, s.usedSlots());
  }

  @Test
  void releaseFreesWithoutReadingAndRefusesUnusedSlots() {
    SwapDevice s = open(4);
    int slot = s.pageOut(42L);
    s.release(slot);
    assertEquals(0, s.usedSlots());
    IllegalStateException twice = assertThrows(IllegalStateException.class, () -> s.release(slot));
    assertTrue(twice.getMessage().contains("not in use"), twice.getMessage());
    assertThrows(IllegalStateException.class, () -> s.pageIn(slot));
    assertThrows(IllegalStateException.class, () -> s.pageIn(3));
    assertThrows(IllegalStateException.class, () -> s.release(-1));
    assertThrows(IllegalStateException.class, () -> s.release(4));
    assertEquals(0, s.usedSlots());
    assertEquals(4, s.freeSlots());
  }

  @Test
  void pageInFreesTheSlot() {
    SwapDevice s = open(2);
    int slot = s.pageOut(9L);
    assertEquals(9L, s.pageIn(slot));
    assertThrows(IllegalStateException.class, () -> s.pageIn(slot));
    assertEquals(0, s.usedSlots());
  }

  @Test
  void closeRemovesTheFile() {
    SwapDevice s = open(2);
    s.pageOut(1L);
    Path file = s.file();
    assertTrue(Files.exists(file));
    s.close();
    swap = null;
    assertFalse(Files.exists(file));
  }
}
