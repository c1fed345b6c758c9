/**
 * The machine's event log: what operators care about (VMs powered on and off, balloon targets, resets, driver
 * modes, free-memory states, the policy's decisions) in a bounded ring with gap-free sequence numbers. Plain Java
 * that depends on the rest of the hypervisor only for the policy's decision records ({@code TargetDecision}); the
 * machine publishes, the transport's watchers read.
 */
package org.balloonlab.hypervisor.event;
