/**
 * The {@code hypervisor} command: picocli options parsed into a {@code MachineConfig}, a machine built from them
 * and a {@code HypervisorServer} started on a port. It may depend on every other package of the hypervisor and
 * on {@code units} for sizes and durations; nothing depends on it.
 */
package org.balloonlab.hypervisor.cli;
