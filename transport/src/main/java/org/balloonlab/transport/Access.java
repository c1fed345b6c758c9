package org.balloonlab.transport;

/** What a call needs before a server runs it ({@link TokenInterceptor}). */
public enum Access {
  /** Nothing: health checks. */
  OPEN,
  /** Nothing from a loopback peer; the lab or the operator token from any other: read-only views. */
  READ,
  /** The lab token or the operator token: joining the lab and a guest's own calls. */
  LAB,
  /** The operator token: the control plane. */
  OPERATOR
}
