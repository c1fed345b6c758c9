package org.balloonlab.guest.os;

/** The guest OS could find no page for a fault: memory is full and nothing can be evicted or swapped. */
public final class GuestOutOfMemoryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public GuestOutOfMemoryException(String message) {
    super(message);
  }
}
