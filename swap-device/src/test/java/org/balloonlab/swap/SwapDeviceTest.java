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
  void createsItsParentDirectoriesAndUnlinksTheFileOnceOpen() {
    Path file = dir.resolve("a/b/host.swap");
    swap = new SwapDevice(file, 4);
    assertTrue(Files.isDirectory(dir.resolve("a/b")));
    assertFalse(Files.exists(file), "the name is removed as soon as the file is open");
    assertEquals(file, swap.file());
    assertEquals(4, swap.slots());
    assertEquals(0, swap.usedSlots());
    assertEquals(4, swap.freeSlots());
    assertEquals(7L, swap.pageIn(swap.pageOut(7L)), "the unlinked file still holds pages");
  }

  @Test
  void tokensReallyLiveInTheFileWhichIsReservedNotSparse() throws Exception {
    // A MiB: large enough that a sparse file, whose few written blocks are all it holds, could not pass.
    final int slots = 1 << 17;
    SwapDevice s = open(slots);
    s.pageOut(11L);
    int slot = s.pageOut(0x1122_3344_5566_7788L);
    assertEquals(1, slot);
    Path open = OpenFiles.deletedFileOf(swap.file());
    byte[] bytes = Files.readAllBytes(open);
    assertEquals(slots * Long.BYTES, bytes.length, "the whole size is there from the start");
    assertEquals(11L, ByteBuffer.wrap(bytes, 0, Long.BYTES).getLong());
    assertEquals(0x1122_3344_5566_7788L, ByteBuffer.wrap(bytes, slot * Long.BYTES, Long.BYTES).getLong());
    assertTrue(OpenFiles.allocatedBytes(open) >= slots * Long.BYTES,
        "blocks are allocated, not a sparse hole: " + OpenFiles.allocatedBytes(open) + " bytes");
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
  void closeGivesTheSpaceBack() throws Exception {
    SwapDevice s = open(2);
    s.pageOut(1L);
    Path open = OpenFiles.deletedFileOf(s.file());
    assertTrue(Files.exists(open));
    s.close();
    swap = null;
    assertFalse(Files.exists(s.file()));
    assertFalse(OpenFiles.isOpen(s.file()), "no descriptor holds the file any more");
  }

  @Test
  void anUnwritableLocationIsAReservationErrorThatLeavesNothing() throws IOException {
    Path notADirectory = Files.writeString(dir.resolve("plain"), "x");
    SwapReservationException e = assertThrows(SwapReservationException.class,
        () -> new SwapDevice(notADirectory.resolve("host.swap"), 4));
    assertEquals(32, e.bytes());
    assertTrue(e.getMessage().startsWith("cannot reserve 32B for a swap file at "), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }
}
