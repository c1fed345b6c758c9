package org.balloonlab.guest.grpc;

import io.grpc.Status;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.vcpu.LabClockLink;
import org.balloonlab.proto.QuantumDone;
import org.balloonlab.proto.QuantumGrant;

/**
 * The lab clock over a VM's access stream (docs/lab-clock.md): the hypervisor's {@code QuantumGrant}s arrive on
 * the stream {@link RemotePhysicalMemory} reads, which hands them here, and each {@code QuantumDone} goes out on the
 * same stream, after every batch before it has been answered.
 */
final class GrpcLabClock implements LabClockLink {
  /** Put on the queue by {@link #wake()}: quanta are numbered from 1, so quantum 0 is no grant. */
  private static final QuantumGrant WAKE = QuantumGrant.getDefaultInstance();
  private static final long POLL_MILLIS = 100;

  private final RemotePhysicalMemory stream;
  private final BlockingQueue<QuantumGrant> grants = new LinkedBlockingQueue<>();

  GrpcLabClock(RemotePhysicalMemory stream) {
    this.stream = stream;
  }

  /** A grant arrived; runs on gRPC's thread. */
  void granted(QuantumGrant grant) {
    grants.add(grant);
  }

  /**
   * Waits on the network with no deadline: a held clock may keep the VM waiting as long as its holder likes, and a
   * hypervisor that goes away or powers the VM off ends the stream, which ends the wait. The wall clock only
   * paces the checks for that.
   */
  @Override
  public Grant awaitGrant() {
    try {
      while (true) {
        QuantumGrant g = grants.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
        if (g == WAKE) {
          return null;
        }
        if (g != null) {
          return new Grant(g.getQuantum(), g.getStartNs(), g.getEndNs(), g.getDoorbell());
        }
        stream.rethrowFailure();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted while waiting for a quantum").asRuntimeException();
    }
  }

  @Override
  public void done(long quantum, long vmTimeNs, boolean leaving, GuestStatus reportOrNull) {
    QuantumDone.Builder done = QuantumDone.newBuilder()
        .setQuantum(quantum)
        .setVmTimeNs(vmTimeNs)
        .setLeaving(leaving);
    if (reportOrNull != null) {
      done.setGuestReport(GuestReports.toProto(reportOrNull));
    }
    stream.sendQuantumDone(done.build());
  }

  @Override
  public void wake() {
    grants.add(WAKE);
  }
}
