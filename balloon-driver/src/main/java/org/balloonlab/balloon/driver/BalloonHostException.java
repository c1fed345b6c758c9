package org.balloonlab.balloon.driver;

/** The hypervisor could not be reached, or refused a call as a whole. */
public final class BalloonHostException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the call failed, as far as the driver needs to know. */
  public enum Kind {
    /** The session is stale (the hypervisor restarted or a newer session replaced it): start a new one. */
    STALE_SESSION,
    /** The hypervisor refused the credential or does not know the VM. */
    DENIED,
    /** The hypervisor did not answer. */
    UNAVAILABLE,
    /** The request was malformed. */
    INVALID
  }

  private final Kind kind;

  public BalloonHostException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
