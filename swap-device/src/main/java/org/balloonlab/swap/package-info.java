/**
 * Swap devices: a bitmap of page slots on a {@link org.balloonlab.swap.SlotStore}, in production a
 * {@link org.balloonlab.swap.SwapFile} reserved on disk at start and unlinked once open. The hypervisor's host swap
 * and each guest's own swap are both one. Plain Java, no dependencies.
 */
package org.balloonlab.swap;
