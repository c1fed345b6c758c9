/**
 * The data-plane benchmark ({@code benchmarks/run}): how many guest memory accesses per second travel to the
 * hypervisor and back, over gRPC ({@code GrpcGuest}) and with the machine called in process
 * ({@code InProcessPhysicalMemory}), both timed by {@code ThroughputRun}; how much hypervisor heap a simulated
 * machine page costs ({@code HeapFootprint}); and what the lab clock costs the data plane ({@code LabClockCost}:
 * lockstep against free running, one clock step, the quantum). {@link
 * org.balloonlab.benchmarks.dataplane.DataPlaneBenchmark} is the command.
 */
package org.balloonlab.benchmarks.dataplane;
