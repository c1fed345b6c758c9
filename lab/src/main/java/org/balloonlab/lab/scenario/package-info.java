/**
 * Scenarios: the model of a lab (a hypervisor, its guests, a schedule of actions, a duration, a report) as plain
 * records, and the reader of scenario files that checks every field and names the file, line and field of each
 * mistake.
 *
 * <p>May depend on {@code units}, on the YAML engine, and on the rules the processes themselves apply to what a
 * scenario passes them (the guest's workload parser, the hypervisor's TLB and cost-model names, the balloon driver
 * modes), so that a scenario refuses what they would refuse; never on gRPC, processes or the launcher.
 */
package org.balloonlab.lab.scenario;
