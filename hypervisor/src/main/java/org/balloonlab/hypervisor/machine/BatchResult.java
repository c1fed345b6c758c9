package org.balloonlab.hypervisor.machine;

/**
 * What applying one access batch produced, besides the read values. Reused across batches of a stream so the
 * data path allocates nothing per batch.
 */
public final class BatchResult {
  int reads;
  int hiddenFaults;
  long hypervisorNs;

  public int reads() {
    return reads;
  }

  public int hiddenFaults() {
    return hiddenFaults;
  }

  public long hypervisorNs() {
    return hypervisorNs;
  }

  void reset() {
    reads = 0;
    hiddenFaults = 0;
    hypervisorNs = 0;
  }
}
