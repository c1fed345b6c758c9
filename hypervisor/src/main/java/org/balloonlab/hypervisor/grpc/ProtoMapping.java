package org.balloonlab.hypervisor.grpc;

import org.balloonlab.domain.DriverMode.Kind;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.hypervisor.machine.BalloonReply;
import org.balloonlab.hypervisor.machine.BalloonSnapshot;
import org.balloonlab.hypervisor.machine.MachineException;
import org.balloonlab.hypervisor.machine.MachineSnapshot;
import org.balloonlab.hypervisor.machine.ReclamationSnapshot;
import org.balloonlab.hypervisor.machine.VmCounters;
import org.balloonlab.hypervisor.machine.VmSnapshot;
import org.balloonlab.hypervisor.mmu.MmuCounters;
import org.balloonlab.hypervisor.mmu.MmuSnapshot;
import org.balloonlab.hypervisor.mmu.TranslationMode;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.BalloonState;
import org.balloonlab.proto.BalloonTargetReply;
import org.balloonlab.proto.DriverMode;
import org.balloonlab.proto.GuestReport;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.MmuState;
import org.balloonlab.proto.ReclamationState;
import org.balloonlab.proto.VmState;

/** Translates between the machine's plain-Java views and the wire's messages. */
final class ProtoMapping {
  /** Longest workload description a guest may report. */
  static final int MAX_WORKLOAD_TEXT = 512;

  private ProtoMapping() {}

  static VmState toProto(VmSnapshot vm) {
    VmCounters c = vm.counters();
    VmState.Builder b = VmState.newBuilder()
        .setVmId(vm.id())
        .setName(vm.name())
        .setOsKind(vm.osKind())
        .setMemoryPages(vm.memoryPages())
        .setAttached(vm.attached())
        .setMappedPages(vm.mappedPages())
        .setHostSwappedPages(vm.hostSwappedPages())
        .setHostSwapReservedPages(vm.hostSwapReservedPages())
        .setSharing(toProto(vm.sharing()))
        .setCounters(org.balloonlab.proto.VmCounters.newBuilder()
            .setAccesses(c.accesses())
            .setReads(c.reads())
            .setWrites(c.writes())
            .setHiddenFaults(c.hiddenFaults())
            .setDemandZeroFaults(c.demandZeroFaults())
            .setHostSwapInFaults(c.hostSwapInFaults())
            .setHostPageOuts(c.hostPageOuts())
            .setHostPageIns(c.hostPageIns())
            .setDoublePaging(c.doublePaging())
            .setFramesZeroed(c.framesZeroed())
            .setHypervisorNs(c.hypervisorNs())
            .setBalloonFaults(c.balloonFaults()));
    if (vm.guest() != null) {
      b.setGuest(toProto(vm.guest()));
    }
    if (vm.guestStats() != null) {
      b.setGuestStats(DecisionMapping.toProto(vm.guestStats()));
    }
    BalloonSnapshot bs = vm.balloon();
    b.setBalloon(BalloonState.newBuilder()
        .setTargetPages(bs.targetPages())
        .setSizePages(bs.sizePages())
        .setDriverConnected(bs.driverConnected())
        .setSessionId(bs.sessionId())
        .setRefusedPages(bs.refusedPages())
        .setLastContactMsAgo(bs.lastContactNanosAgo() < 0 ? -1 : bs.lastContactNanosAgo() / 1_000_000)
        .setUncooperative(bs.uncooperative())
        .setRequestedMode(bs.requestedMode() == null ? "" : bs.requestedMode().toString())
        .setResets(bs.resets())
        .setLockedTotal(bs.lockedTotal())
        .setUnlockedTotal(bs.unlockedTotal()));
    ReclamationSnapshot r = vm.reclamation();
    b.setReclamation(ReclamationState.newBuilder()
        .setMinPages(r.minPages())
        .setMaxPages(r.maxPages())
        .setShares(r.shares())
        .setAllocationTargetPages(r.allocationTargetPages())
        .setActiveFraction(r.activeFraction())
        .setActiveFast(r.activeFast())
        .setActiveSlow(r.activeSlow())
        .setSamplePeriods(r.samplePeriods())
        .setSharesPerPage(r.sharesPerPage())
        .setTargetPinned(r.targetPinned())
        .setPolicyPageOuts(r.policyPageOuts())
        .setBlockedBatches(r.blockedBatches())
        .setBlockedNs(r.blockedNs())
        .setTau(r.tau())
        .setOwnTau(r.ownTau())
        .setHostDiskWaitNs(r.hostDiskWaitNs()));
    b.setMmu(toProto(vm.mmu()));
    return b.build();
  }

  static MmuState toProto(MmuSnapshot m) {
    MmuCounters c = m.counters();
    return MmuState.newBuilder()
        .setMode(toProto(m.mode()))
        .setTlbHits(c.tlbHits())
        .setTlbMisses(c.tlbMisses())
        .setWalkReferences(c.walkReferences())
        .setExitsPageTableWrite(c.exitsPageTableWrite())
        .setExitsContextSwitch(c.exitsContextSwitch())
        .setExitsGuestPageFault(c.exitsGuestPageFault())
        .setExitsShadowFill(c.exitsShadowFill())
        .setExitsP2MFault(c.exitsP2mFault())
        .setHiddenShadowFaults(c.hiddenShadowFaults())
        .setReflectedFaults(c.reflectedFaults())
        .setShadowTableBytes(m.shadowTableBytes())
        .setShadowTablePeakBytes(c.shadowPeakBytes())
        .setShadowEntries(m.shadowEntries())
        .setTranslationTablePages(m.translationTablePages())
        .setTranslationTableLimitPages(m.translationTableLimitPages())
        .setTlbFlushes(c.tlbFlushes())
        .setTlbInvalidations(m.tlbInvalidations())
        .setUntrackedTranslations(c.untrackedTranslations())
        .setTranslationNs(c.translationNs())
        .setPageTableEvents(c.pageTableEvents())
        .build();
  }

  static org.balloonlab.proto.TranslationMode toProto(TranslationMode mode) {
    return mode == TranslationMode.SHADOW ? org.balloonlab.proto.TranslationMode.TRANSLATION_MODE_SHADOW
        : org.balloonlab.proto.TranslationMode.TRANSLATION_MODE_NESTED;
  }

  /** @throws io.grpc.StatusRuntimeException INVALID_ARGUMENT for a mode this hypervisor does not know */
  static TranslationMode fromProto(org.balloonlab.proto.TranslationMode mode) {
    return switch (mode) {
      case TRANSLATION_MODE_UNSPECIFIED, TRANSLATION_MODE_NESTED -> TranslationMode.NESTED;
      case TRANSLATION_MODE_SHADOW -> TranslationMode.SHADOW;
      default -> throw StatusMapping.invalid("unknown translation mode " + mode
          + "; use TRANSLATION_MODE_NESTED or TRANSLATION_MODE_SHADOW");
    };
  }

  static MachineState toProto(MachineSnapshot m) {
    return MachineState.newBuilder()
        .setMachineFrames(m.machineFrames())
        .setFreeFrames(m.freeFrames())
        .setMappedFrames(m.mappedFrames())
        .setHostSwapSlots(m.hostSwapSlots())
        .setHostSwapUsed(m.hostSwapUsed())
        .setPoweredOnVms(m.vms().size())
        .setConfiguredPages(m.configuredPages())
        .setHostPageOuts(m.hostPageOuts())
        .setHostPageIns(m.hostPageIns())
        .setDoublePaging(m.doublePaging())
        .setVmsReleased(m.vmsReleased())
        .setFreeState(m.freeState())
        .setPolicy(m.policy())
        .setFreeStateChanges(m.freeStateChanges())
        .setTargetFreeFrames(m.targetFreeFrames())
        .setTau(m.tau())
        .setPolicyPageOuts(m.policyPageOuts())
        .setReservedPages(m.reservedPages())
        .setHostSwapReservedPages(m.hostSwapReservedPages())
        .setMaxVms(m.quotas().maxVms())
        .setMaxConfiguredPages(m.quotas().maxConfiguredPages())
        .setMaxTranslationTablePages(m.quotas().maxTranslationTablePages())
        .setSharing(toProto(m.sharing()))
        .build();
  }

  static org.balloonlab.proto.VmSharingState toProto(org.balloonlab.hypervisor.machine.VmSharing s) {
    return org.balloonlab.proto.VmSharingState.newBuilder()
        .setSharedPages(s.sharedPages())
        .setSavedPages(s.savedPages())
        .setHints(s.hints())
        .setCowBreaks(s.cowBreaks())
        .setScannedPages(s.scannedPages())
        .setSharedBeforePageOut(s.sharedBeforePageOut())
        .setShareScanNs(s.shareScanNs())
        .build();
  }

  static org.balloonlab.proto.MachineSharingState toProto(org.balloonlab.hypervisor.machine.SharingSnapshot s) {
    return org.balloonlab.proto.MachineSharingState.newBuilder()
        .setEnabled(s.enabled())
        .setSharedFrames(s.sharedFrames())
        .setSharedReferences(s.sharedReferences())
        .setSavedFrames(s.savedFrames())
        .setHints(s.hints())
        .setCowBreaks(s.cowBreaks())
        .setScannedPages(s.scannedPages())
        .setSharedBeforePageOut(s.sharedBeforePageOut())
        .setCollisions(s.collisions())
        .setTableBytes(s.tableBytes())
        .setTableSlots(s.tableSlots())
        .setZeroReferences(s.zeroReferences())
        .setHintsEvicted(s.hintsEvicted())
        .setShareScanNs(s.shareScanNs())
        .build();
  }

  static org.balloonlab.proto.CostModel toProto(CostModel c) {
    return org.balloonlab.proto.CostModel.newBuilder()
        .setMemoryAccessNs(c.memoryAccessNs())
        .setGuestPageFaultNs(c.guestPageFaultNs())
        .setHiddenFaultNs(c.hiddenFaultNs())
        .setZeroFrameNs(c.zeroFrameNs())
        .setGuestSwapReadNs(c.guestSwapReadNs())
        .setGuestSwapWriteNs(c.guestSwapWriteNs())
        .setHostSwapReadNs(c.hostSwapReadNs())
        .setHostSwapWriteNs(c.hostSwapWriteNs())
        .setTlbHitNs(c.tlbHitNs())
        .setPageWalkReferenceNs(c.pageWalkReferenceNs())
        .setVmExitNs(c.vmExitNs())
        .build();
  }

  static GuestReport toProto(GuestStatus g) {
    return GuestReport.newBuilder()
        .setSimulatedNs(g.simulatedNs())
        .setAccesses(g.accesses())
        .setTrueFaults(g.trueFaults())
        .setMajorFaults(g.majorFaults())
        .setMinorFaults(g.minorFaults())
        .setGuestPageOuts(g.pageOuts())
        .setGuestPageIns(g.pageIns())
        .setIntegrityViolations(g.integrityViolations())
        .setIsolationViolations(g.isolationViolations())
        .setFreePages(g.freePages())
        .setTotalPages(g.totalPages())
        .setSwapUsedPages(g.swapUsedPages())
        .setContextSwitches(g.contextSwitches())
        .setWorkload(g.workload())
        .setWorkloadDone(g.workloadDone())
        .build();
  }

  /** @throws io.grpc.StatusRuntimeException INVALID_ARGUMENT for a report no guest could have made */
  static GuestStatus fromProto(GuestReport r) {
    if (r.getWorkload().length() > MAX_WORKLOAD_TEXT) {
      throw StatusMapping.invalid("a guest report's workload text is limited to " + MAX_WORKLOAD_TEXT
          + " characters");
    }
    long[] counts = {r.getSimulatedNs(), r.getAccesses(), r.getTrueFaults(), r.getMajorFaults(), r.getMinorFaults(),
        r.getGuestPageOuts(), r.getGuestPageIns(), r.getIntegrityViolations(), r.getIsolationViolations(),
        r.getFreePages(), r.getTotalPages(), r.getSwapUsedPages(), r.getContextSwitches()};
    for (long v : counts) {
      if (v < 0) {
        throw StatusMapping.invalid("a guest report's counters cannot be negative, got " + v);
      }
    }
    return new GuestStatus(r.getSimulatedNs(), r.getAccesses(), r.getTrueFaults(), r.getMajorFaults(),
        r.getMinorFaults(), r.getGuestPageOuts(), r.getGuestPageIns(), r.getIntegrityViolations(),
        r.getIsolationViolations(), r.getFreePages(), r.getTotalPages(), r.getSwapUsedPages(),
        r.getContextSwitches(), r.getWorkload(), r.getWorkloadDone());
  }

  static BalloonTargetReply toProto(BalloonReply r) {
    BalloonTargetReply.Builder b = BalloonTargetReply.newBuilder()
        .setTargetPages(r.targetPages())
        .setReset(r.reset());
    if (r.requestedMode() != null) {
      org.balloonlab.domain.DriverMode m = r.requestedMode();
      b.setRequestedMode(org.balloonlab.proto.DriverModeRequest.newBuilder()
          .setMode(toProto(m.kind()))
          .setLateMs(m.lateMillis())
          .setPagesPerSecond(m.pagesPerSecond())
          .setStuckProbability(m.stuckProbability()));
    }
    return b.build();
  }

  /** @throws MachineException INVALID_ARGUMENT for an unspecified or unknown mode or bad parameters */
  static org.balloonlab.domain.DriverMode fromProto(org.balloonlab.proto.DriverModeRequest m) {
    Kind kind = Kind.fromWireNumber(m.getModeValue());
    if (kind == null) {
      throw new MachineException(MachineException.Reason.INVALID_ARGUMENT,
          "a driver mode is required: enabled, disabled, uninstalled, late, slow or stuck");
    }
    try {
      return org.balloonlab.domain.DriverMode.checked(kind, m.getLateMs(), m.getPagesPerSecond(),
          m.getStuckProbability());
    } catch (IllegalArgumentException e) {
      throw new MachineException(MachineException.Reason.INVALID_ARGUMENT, e.getMessage());
    }
  }

  static DriverMode toProto(Kind kind) {
    return DriverMode.forNumber(kind.wireNumber());
  }

  static org.balloonlab.proto.MachineEvent toProto(org.balloonlab.hypervisor.event.MachineEvent e) {
    var b = org.balloonlab.proto.MachineEvent.newBuilder()
        .setSequence(e.sequence())
        .setWallTimeMs(e.wallTimeMillis())
        .setKind(org.balloonlab.proto.EventKind.valueOf("EVENT_KIND_" + e.kind().name()))
        .setVmId(e.vmId())
        .setVmName(e.vmName())
        .setMessage(e.message())
        .setLabTimeNs(e.labTimeNs());
    if (e.decision() != null) {
      b.setDecision(DecisionMapping.toProto(e.decision()));
    }
    return b.build();
  }
}
