/**
 * The simulated guest operating system: processes and their page tables, the free list, clock replacement,
 * the guest's own swap, the tokens that make every read checkable, and the counters and status it reports.
 *
 * <p>Plain Java and single-threaded (the vCPU runs it). It may depend on the domain module's kernel interface
 * (which it offers the balloon driver), the swap device and the JDK; never on gRPC, the protos or the balloon
 * driver module. The memory it runs on is a {@link org.balloonlab.guest.os.PhysicalMemory}, which the
 * transport implements.
 */
package org.balloonlab.guest.os;
