package org.balloonlab.hypervisor.event;

/** What happened on the machine; operators filter and read events by kind. */
public enum EventKind {
  /** A guest powered its VM on. */
  VM_POWERED_ON,
  /** A VM was powered off on purpose: by its guest, or by an operator. */
  VM_POWERED_OFF,
  /** A VM was released because its guest went away (its stream broke, or it never came back). */
  VM_RELEASED,
  /** An operator asked a VM's balloon driver to switch mode. */
  DRIVER_MODE_CHANGED,
  /** A VM's balloon target was set by an operator. */
  BALLOON_TARGET_SET,
  /** The hypervisor reset a VM's balloon: the guest touched a page it had given away. */
  BALLOON_RESET,
  /** The machine's free memory crossed into another state (high, soft, hard, low). */
  FREE_STATE_CHANGED,
  /** The host swap failed (an I/O error): hypervisor paging stopped. Published once, for the machine (VM 0). */
  HOST_SWAP_FAILED,
  /** An operator changed the idle memory tax rate, machine-wide or of one VM. */
  TAU_CHANGED,
  /** The reclamation policy moved a VM's balloon target; the event carries the decision's inputs. */
  TARGET_DECIDED,
  /**
   * The page-sharing table reached its cap: new entries now take hints' slots. Once per episode, for the machine
   * (VM 0); {@link #SHARING_TABLE_RECOVERED} ends it.
   */
  SHARING_TABLE_FULL,
  /** The page-sharing table is back under seven eighths of its cap, a simulated second or more after it filled. */
  SHARING_TABLE_RECOVERED,
  /**
   * A VM's pages on shared frames or its copy-on-write breaks moved by 1 % of its pages (at least 16) since its
   * last such event; at most once per simulated second per VM.
   */
  SHARING_PROGRESS,
  /** A VM powered off with pages on shared frames: its references dropped, the frames freed with their last. */
  SHARED_FRAMES_RELEASED
}
