/**
 * The transport edge: the machine, management and balloon services, the doorbells and event watchers that
 * stream from them, the server that hosts them, and the one mapping of the machine's refusals to gRPC statuses
 * ({@code StatusMapping}) and of its views to messages ({@code ProtoMapping}). It depends on {@code machine},
 * {@code mmu}, {@code event}, {@code time} and the generated {@code proto} code; the domain never depends on it.
 */
package org.balloonlab.hypervisor.grpc;
