package org.balloonlab.hypervisor.policy;

/**
 * Which rule set a VM's allocation at a policy decision: what a student reads first when asking why its target
 * moved.
 */
public enum AllocationBound {
  /** Free memory was plentiful: every VM may have its whole configured size. */
  WHOLE_SIZE,
  /** It got what it asked for: what it uses plus headroom to grow into (twice that when held back). */
  ASK,
  /** Memory was short and it was reclaimed from as the VM with the lowest shares per page (min-funding revocation). */
  SHARES,
  /** Reclaiming from it stopped at its reserved minimum. */
  MIN,
  /** An operator pinned its balloon target: the policy left it alone. */
  PINNED;

  /** The rule's name as the wire and reports spell it: whole-size, ask, shares, min, pinned. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }
}
