package org.balloonlab.hypervisor.clock;

/** A VM queued more operations than the clock holds for it. */
public final class QueueFullException extends RuntimeException {
  QueueFullException(String message) {
    super(message);
  }
}
