/**
 * What the guest's processes do: access patterns (sequential, uniform, hot set, phases, idle) described by a
 * {@link org.balloonlab.guest.workload.WorkloadSpec} as users write it, each yielding one access at a time.
 *
 * <p>Plain Java; it may depend on the units module and the JDK, nothing else.
 */
package org.balloonlab.guest.workload;
