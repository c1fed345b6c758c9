package org.balloonlab.guest.os;

/**
 * The cost-model constants a guest charges itself, in nanoseconds; the hypervisor hands them over at power-on
 * so both sides use one model.
 */
public record GuestCosts(long memoryAccessNs, long pageFaultNs, long swapReadNs, long swapWriteNs) {
  public GuestCosts {
    if (memoryAccessNs < 0 || pageFaultNs < 0 || swapReadNs < 0 || swapWriteNs < 0) {
      throw new IllegalArgumentException("costs cannot be negative");
    }
  }
}
