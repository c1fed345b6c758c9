/**
 * Address translation in nested or shadow mode: a tagged, set-associative TLB, radix tables for shadow tables
 * and for the hypervisor's copy of each guest page table, and what each access and page-table event costs in
 * exits and walks. Plain Java; it depends on {@code time} for the cost model alone and knows nothing of the
 * machine, which tells it of every P2M change.
 */
package org.balloonlab.hypervisor.mmu;
