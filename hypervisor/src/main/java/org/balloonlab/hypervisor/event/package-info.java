/**
 * The machine's event log: what operators care about (VMs powered on and off, balloon targets, resets, driver
 * modes, free-memory states, the policy's decisions, the page-sharing table at its cap and each VM's sharing
 * progress) in a bounded ring with gap-free sequence numbers. Plain Java that depends on the rest of the
 * hypervisor only for the policy's decision records ({@code TargetDecision}); the machine publishes, the
 * transport's watchers read.
 */
package org.balloonlab.hypervisor.event;
