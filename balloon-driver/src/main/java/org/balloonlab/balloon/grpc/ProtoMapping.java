package org.balloonlab.balloon.grpc;

import org.balloonlab.balloon.driver.BalloonHost.PageStatus;
import org.balloonlab.balloon.driver.BalloonHost.Session;
import org.balloonlab.balloon.driver.BalloonHost.Target;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.DriverMode.Kind;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.proto.BalloonCapability;
import org.balloonlab.proto.BalloonPageStatus;
import org.balloonlab.proto.BalloonStartResponse;
import org.balloonlab.proto.BalloonStats;
import org.balloonlab.proto.BalloonTargetReply;
import org.balloonlab.proto.DriverModeRequest;

/** Translates between the balloon service's messages and the driver's plain-Java types. */
final class ProtoMapping {
  /** Pages per lock or unlock when the hypervisor grants batching but names no limit. */
  static final int DEFAULT_MAX_BATCH_PAGES = 512;

  private static final Target NO_TARGET = new Target(0, false, null);

  private ProtoMapping() {}

  static Session toSession(BalloonStartResponse r) {
    boolean batched = false;
    boolean doorbell = false;
    boolean stats = false;
    for (BalloonCapability c : r.getGrantedList()) {
      switch (c) {
        case BALLOON_CAPABILITY_BATCHED_LOCK -> batched = true;
        case BALLOON_CAPABILITY_DOORBELL -> doorbell = true;
        case BALLOON_CAPABILITY_STATS -> stats = true;
        default -> { }
      }
    }
    int maxBatch = !batched ? 1 : r.getMaxBatchPages() > 0 ? r.getMaxBatchPages() : DEFAULT_MAX_BATCH_PAGES;
    Target target = r.hasTarget() ? toTarget(r.getTarget()) : NO_TARGET;
    return new Session(r.getSessionId(), maxBatch, batched, doorbell, stats, target);
  }

  static Target toTarget(BalloonTargetReply r) {
    return new Target(r.getTargetPages(), r.getReset(), r.hasRequestedMode() ? toDriverMode(r.getRequestedMode())
        : null);
  }

  /** The requested mode, or {@code null} when the operator asked for none (or for one this driver lacks). */
  static DriverMode toDriverMode(DriverModeRequest m) {
    Kind kind = Kind.fromWireNumber(m.getModeValue());
    return kind == null ? null
        : new DriverMode(kind, m.getLateMs(), m.getPagesPerSecond(), m.getStuckProbability());
  }

  /**
   * A page status from the wire. The driver has no "unknown": an unspecified or newer status counts as
   * INVALID, which makes the driver give a page it tried to lock back to the kernel, and keep a page it tried
   * to unlock.
   */
  static PageStatus toPageStatus(BalloonPageStatus s) {
    return switch (s) {
      case BALLOON_PAGE_OK -> PageStatus.OK;
      case BALLOON_PAGE_INVALID -> PageStatus.INVALID;
      case BALLOON_PAGE_ALREADY_LOCKED -> PageStatus.ALREADY_LOCKED;
      case BALLOON_PAGE_NOT_LOCKED -> PageStatus.NOT_LOCKED;
      case BALLOON_PAGE_DUPLICATE -> PageStatus.DUPLICATE;
      case BALLOON_PAGE_REFUSED -> PageStatus.REFUSED;
      case BALLOON_PAGE_RESET -> PageStatus.RESET;
      case BALLOON_PAGE_STATUS_UNSPECIFIED, UNRECOGNIZED -> PageStatus.INVALID;
    };
  }

  static BalloonStats toProto(MemoryStats s) {
    return BalloonStats.newBuilder()
        .setSwapIn(s.swapIn())
        .setSwapOut(s.swapOut())
        .setMajorFaults(s.majorFaults())
        .setMinorFaults(s.minorFaults())
        .setFreePages(s.freePages())
        .setTotalPages(s.totalPages())
        .setAvailablePages(s.availablePages())
        .build();
  }
}
