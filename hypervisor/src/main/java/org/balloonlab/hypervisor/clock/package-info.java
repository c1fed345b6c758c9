/**
 * The lab clock ({@code docs/lab-clock.md}): lab time kept by the hypervisor, advanced a quantum at a time by
 * conservative lockstep, and the sequencer that applies every VM's operations in an order set by simulated time
 * and VM identity. Plain Java: it knows VMs only as {@link org.balloonlab.hypervisor.clock.ClockMember}s and the
 * machine only as {@link org.balloonlab.hypervisor.clock.BoundaryWork}; it reads the wall clock for pacing and
 * the straggler grace alone.
 */
package org.balloonlab.hypervisor.clock;
