/**
 * The machine's event log: what operators care about (VMs powered on and off, balloon targets, resets, driver
 * modes, free-memory states) in a bounded ring with gap-free sequence numbers. Plain Java with no dependencies
 * on the rest of the hypervisor; the machine publishes, the transport's watchers read.
 */
package org.balloonlab.hypervisor.event;
