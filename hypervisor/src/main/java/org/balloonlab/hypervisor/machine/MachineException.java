package org.balloonlab.hypervisor.machine;

/**
 * A request the machine refuses, with the reason a caller can act on. The transport maps each reason to a gRPC
 * status in one place; the domain never sees gRPC types. A refused request has changed nothing.
 */
public final class MachineException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why a request was refused. */
  public enum Reason {
    INVALID_ARGUMENT,
    NOT_FOUND,
    ALREADY_EXISTS,
    PERMISSION_DENIED,
    FAILED_PRECONDITION,
    RESOURCE_EXHAUSTED
  }

  private final Reason reason;

  public MachineException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  static MachineException invalid(String message) {
    return new MachineException(Reason.INVALID_ARGUMENT, message);
  }
}
