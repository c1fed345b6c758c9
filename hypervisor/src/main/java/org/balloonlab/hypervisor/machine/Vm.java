package org.balloonlab.hypervisor.machine;

import java.util.List;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.hypervisor.mmu.Mmu;
import org.balloonlab.hypervisor.mmu.TranslationMode;
import java.util.ArrayDeque;
import org.balloonlab.hypervisor.policy.ActivitySampler;
import org.balloonlab.hypervisor.policy.TargetDecision;

/**
 * A powered-on VM as the hypervisor keeps it: its P2M, its credential, whether a guest agent is attached to
 * its access stream, and its counters. All mutable state changes under the machine's lock.
 */
public final class Vm {
  private final int id;
  private final String name;
  private final String osKind;
  private final String credential;
  final P2m p2m;
  final VmCounters.Live counters = new VmCounters.Live();
  /** Its page sharing: pages mapped to shared frames, hints, copy-on-write breaks. */
  final VmSharing.Live sharing = new VmSharing.Live();
  /** Address translation: TLB, shadow tables, exits. */
  final Mmu mmu;
  boolean poweredOn = true;
  boolean attached;
  long detachedSinceNanos;
  long mappedPages;
  long hostSwappedPages;
  GuestStatus guest;

  /** The balloon, as the hypervisor keeps it. */
  final VmBalloon balloon;
  /** The client's PowerOn request id, so a retry answers this VM again; {@code null} without one. */
  String powerOnRequestId;
  /** Host swap slots reserved for this VM at power-on ({@code memory - min}); it never holds more. */
  long swapReservation() {
    return p2m.pages() - minPages;
  }

  /** Why the VM was powered off, once it is; told to a guest whose access is refused. */
  String offReason;
  /** The code its guest's requests are refused with once it is off: DATA_LOSS if the host swap lost a page. */
  MachineException.Reason offCode = MachineException.Reason.FAILED_PRECONDITION;

  // Reclamation: the VM's resource settings and what the policy decided for it.
  /** Memory reserved for the VM: it is never reclaimed below this. */
  final long minPages;
  final long shares;
  final ActivitySampler sampler;
  long allocationTarget;
  boolean targetPinned;
  long policyPageOuts;
  long blockedBatches;
  long blockedNs;
  /**
   * Lab time until which the host swap disk is busy with this VM's pages, written or read by the hypervisor on its
   * own account (the policy's page-outs, reserved pages read back); the VM's next batch waits for it.
   */
  long hostDiskBusyUntilNs;
  /** Simulated time its batches waited for that disk. */
  long hostDiskWaitNs;
  double sharesPerPage;
  /** The VM's own idle memory tax rate, set at run time by an operator; NaN while the machine's applies. */
  double ownTau = Double.NaN;
  /** The policy's latest decisions that moved this VM's target, oldest first, at most {@link TargetDecision#HISTORY}. */
  final ArrayDeque<TargetDecision> decisions = new ArrayDeque<>();
  /** The memory statistics its balloon driver last reported, or {@code null}; only the latest is kept. */
  GuestStats guestStats;

  Vm(int id, String name, String osKind, int memoryPages, long minPages, long shares, ActivitySampler sampler,
     String credential, long nowNanos, Mmu mmu) {
    this.id = id;
    this.mmu = mmu;
    this.minPages = minPages;
    this.shares = shares;
    this.sampler = sampler;
    this.allocationTarget = memoryPages;
    this.name = name;
    this.osKind = osKind;
    this.credential = credential;
    this.p2m = new P2m(memoryPages);
    this.detachedSinceNanos = nowNanos;
    this.balloon = new VmBalloon(nowNanos);
  }

  public int id() {
    return id;
  }

  public String name() {
    return name;
  }

  String osKind() {
    return osKind;
  }

  public int memoryPages() {
    return p2m.pages();
  }

  TranslationMode translationMode() {
    return mmu.mode();
  }

  /** The secret a caller presents to act for this VM. */
  public String credential() {
    return credential;
  }

  /** @param machineTau the machine-wide idle memory tax rate, which applies unless the VM has its own */
  VmSnapshot snapshot(long nowNanos, long stallNanos, double machineTau, VmSharing sharingNow) {
    boolean own = !Double.isNaN(ownTau);
    ReclamationSnapshot reclamation = new ReclamationSnapshot(minPages, p2m.pages(), shares, allocationTarget,
        sampler.activeFraction(), sampler.fast(), sampler.slow(), sampler.periods(), sharesPerPage, targetPinned,
        policyPageOuts, blockedBatches, blockedNs, own ? ownTau : machineTau, own, hostDiskWaitNs);
    return new VmSnapshot(id, name, osKind, p2m.pages(), attached, mappedPages, hostSwappedPages, counters.snapshot(),
        guest, balloon.snapshot(nowNanos, stallNanos), reclamation, mmu.snapshot(), swapReservation(), sharingNow,
        guestStats);
  }

  /** Keeps a decision that moved this VM's target, dropping the oldest beyond {@link TargetDecision#HISTORY}. */
  void recordDecision(TargetDecision decision) {
    if (decisions.size() == TargetDecision.HISTORY) {
      decisions.removeFirst();
    }
    decisions.addLast(decision);
  }

  /** The kept decisions, oldest first. */
  List<TargetDecision> decisions() {
    return List.copyOf(decisions);
  }

  /**
   * Refuses any request on a VM that has been powered off, telling why it went.
   *
   * @throws MachineException FAILED_PRECONDITION, flagged as powered off
   */
  public void requirePoweredOn() {
    if (!poweredOn) {
      throw MachineException.poweredOff(offCode, this + " is powered off"
          + (offReason == null ? "" : " (" + offReason + ")"), name, offReason == null ? "" : offReason);
    }
  }

  @Override
  public String toString() {
    return "VM " + id + " (" + name + ")";
  }
}
