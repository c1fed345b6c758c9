/**
 * The guest's one virtual CPU: runs the processes' workloads round-robin on the guest OS, runs kernel work
 * (the balloon driver's calls) between time slices, and reports the guest's status. On the lab clock it runs the
 * quanta its {@link org.balloonlab.guest.vcpu.LabClockLink} grants, a transport-free interface the access stream
 * implements.
 *
 * <p>Plain Java; it may depend on the guest OS and workload packages and the JDK.
 */
package org.balloonlab.guest.vcpu;
