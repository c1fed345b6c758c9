/**
 * The guest's data-plane transport: powering the VM on and off over {@code MachineService}, and guest-physical
 * memory backed by the hypervisor over the VM's batched, bidirectional access stream.
 *
 * <p>The guest's gRPC edge: it may depend on the guest OS package, the generated protos and gRPC; the guest OS
 * never depends on it.
 */
package org.balloonlab.guest.grpc;
