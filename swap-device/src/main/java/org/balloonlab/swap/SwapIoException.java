package org.balloonlab.swap;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A swap device's storage failed while paging: a page could not be written out, or one paged out earlier could
 * not be read back. The device is then failed for good (it accepts no more page-outs); what that means for the
 * page's owner is the owner's call: a page that could not be written is still in memory, one that could not be
 * read back is lost.
 */
public final class SwapIoException extends UncheckedIOException {
  private static final long serialVersionUID = 1L;

  /** What the device was doing when its storage failed. */
  public enum Operation {
    /** Paging a page out: the page was not stored, its content is still where it was. */
    WRITE,
    /** Reading a paged-out page back: its content is lost. */
    READ
  }

  private final Operation operation;
  private final int slot;

  SwapIoException(Operation operation, int slot, String where, IOException cause) {
    super("swap " + (operation == Operation.WRITE ? "write to " : "read from ") + where + " failed at slot "
        + slot + ": " + cause.getMessage(), cause);
    this.operation = operation;
    this.slot = slot;
  }

  public Operation operation() {
    return operation;
  }

  public int slot() {
    return slot;
  }
}
