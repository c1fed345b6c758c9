/**
 * The data-plane benchmark ({@code benchmarks/run}): how many guest memory accesses per second travel to the
 * hypervisor and back, over gRPC and with the machine called in process ({@code ThroughputRun},
 * {@code InProcessPhysicalMemory}), and how much hypervisor heap a simulated machine page costs
 * ({@code HeapFootprint}). {@link org.balloonlab.benchmarks.dataplane.DataPlaneBenchmark} is the command.
 */
package org.balloonlab.benchmarks.dataplane;
