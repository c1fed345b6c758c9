package org.balloonlab.hypervisor.machine;

/**
 * Cumulative counters the hypervisor keeps for one VM. Mutated only under the machine's lock; {@link #copy()}
 * gives a snapshot to hand out.
 */
public final class VmCounters {
  long accesses;
  long reads;
  long writes;
  long hiddenFaults;
  long demandZeroFaults;
  long hostSwapInFaults;
  long hostPageOuts;
  long hostPageIns;
  long doublePaging;
  long framesZeroed;
  long hypervisorNs;
  long balloonFaults;

  VmCounters copy() {
    VmCounters c = new VmCounters();
    c.accesses = accesses;
    c.reads = reads;
    c.writes = writes;
    c.hiddenFaults = hiddenFaults;
    c.demandZeroFaults = demandZeroFaults;
    c.hostSwapInFaults = hostSwapInFaults;
    c.hostPageOuts = hostPageOuts;
    c.hostPageIns = hostPageIns;
    c.doublePaging = doublePaging;
    c.framesZeroed = framesZeroed;
    c.hypervisorNs = hypervisorNs;
    c.balloonFaults = balloonFaults;
    return c;
  }

  public long accesses() {
    return accesses;
  }

  public long reads() {
    return reads;
  }

  public long writes() {
    return writes;
  }

  public long hiddenFaults() {
    return hiddenFaults;
  }

  public long demandZeroFaults() {
    return demandZeroFaults;
  }

  public long hostSwapInFaults() {
    return hostSwapInFaults;
  }

  public long hostPageOuts() {
    return hostPageOuts;
  }

  public long hostPageIns() {
    return hostPageIns;
  }

  public long doublePaging() {
    return doublePaging;
  }

  public long framesZeroed() {
    return framesZeroed;
  }

  public long hypervisorNs() {
    return hypervisorNs;
  }

  /** Hidden faults on a ballooned page, each of which reset the balloon. */
  public long balloonFaults() {
    return balloonFaults;
  }
}
