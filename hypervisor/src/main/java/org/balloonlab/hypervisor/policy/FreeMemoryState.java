package org.balloonlab.hypervisor.policy;

import java.util.Locale;

/**
 * How short of free memory the machine is, as ESX's four states name it. Each state says which mechanism
 * reclaims memory: none, the balloon, hypervisor paging, or hypervisor paging while VMs above their target
 * are held back.
 */
public enum FreeMemoryState {
  /** Enough free memory: nothing is reclaimed, and balloons may deflate. */
  HIGH,
  /** Free memory fell below the soft threshold: the policy lowers targets and the balloons reclaim. */
  SOFT,
  /** Below the hard threshold: the hypervisor also pages VMs down to their targets itself. */
  HARD,
  /** Below the low threshold: paging, and a VM above its target runs only once it is back under it. */
  LOW;

  /** The state's name as status lines and the wire show it: high, soft, hard, low. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether the hypervisor pages VMs to their targets in this state, whatever their balloons do. */
  public boolean pages() {
    return this == HARD || this == LOW;
  }
}
