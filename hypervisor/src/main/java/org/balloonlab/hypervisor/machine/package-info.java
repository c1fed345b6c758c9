/**
 * The simulated machine: machine memory (MFNs), a P2M per VM, host swap, the data path with its hidden faults,
 * the balloon protocol's back end and the reclamation mechanism. {@code Machine} is the one public entry point
 * and holds the one lock; the mechanisms are package-private classes that assume it is held. Plain Java with no
 * gRPC types: it may depend on {@code mmu}, {@code policy}, {@code event}, {@code time} and {@code swap-device}.
 */
package org.balloonlab.hypervisor.machine;
