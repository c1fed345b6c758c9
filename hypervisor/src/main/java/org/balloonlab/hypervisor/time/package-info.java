/**
 * The cost model: the documented, configurable constants (TLB hit, memory reference, VM exit, zeroing a frame,
 * disk reads and writes for either swap) that advance a VM's simulated clock. Plain Java with no dependencies;
 * the machine, the MMU and the transport (which hands it to guests) read it.
 */
package org.balloonlab.hypervisor.time;
