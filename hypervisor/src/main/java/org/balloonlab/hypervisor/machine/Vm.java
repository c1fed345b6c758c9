package org.balloonlab.hypervisor.machine;

import org.balloonlab.hypervisor.mmu.Mmu;

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
  final VmCounters counters = new VmCounters();
  /** Address translation: TLB, shadow tables, exits. */
  final Mmu mmu;
  boolean poweredOn = true;
  boolean attached;
  long detachedSinceNanos;
  long mappedPages;
  long hostSwappedPages;
  GuestView guest;

  // The balloon, as the hypervisor keeps it.
  long balloonTarget;
  long balloonSize;
  long balloonSession;
  int balloonSessionBatch;
  boolean balloonSessionDoorbell;
  boolean balloonSessionStats;
  boolean balloonResetPending;
  long balloonRefused;
  long balloonLastContactNanos;
  boolean balloonEverContacted;
  long balloonProgressNanos;
  long balloonResets;
  long balloonLocked;
  long balloonUnlocked;
  DriverModeRequest requestedMode;

  Vm(int id, String name, String osKind, int memoryPages, String credential, long nowNanos, Mmu mmu) {
    this.id = id;
    this.mmu = mmu;
    this.name = name;
    this.osKind = osKind;
    this.credential = credential;
    this.p2m = new P2m(memoryPages);
    this.detachedSinceNanos = nowNanos;
    this.balloonProgressNanos = nowNanos;
  }

  public int id() {
    return id;
  }

  public String name() {
    return name;
  }

  public String osKind() {
    return osKind;
  }

  public int memoryPages() {
    return p2m.pages();
  }

  public org.balloonlab.hypervisor.mmu.TranslationMode translationMode() {
    return mmu.mode();
  }

  /** The secret a caller presents to act for this VM. */
  public String credential() {
    return credential;
  }

  VmSnapshot snapshot(long nowNanos, long stallNanos) {
    BalloonSnapshot balloon = new BalloonSnapshot(balloonTarget, balloonSize, balloonSession != 0, balloonSession,
        balloonRefused, balloonEverContacted ? nowNanos - balloonLastContactNanos : -1,
        balloonSize != balloonTarget && nowNanos - balloonProgressNanos > stallNanos, requestedMode, balloonResets,
        balloonLocked, balloonUnlocked);
    return new VmSnapshot(id, name, osKind, p2m.pages(), attached, mappedPages, hostSwappedPages, counters.copy(),
        guest, balloon, mmu.snapshot());
  }

  @Override
  public String toString() {
    return "VM " + id + " (" + name + ")";
  }
}
