package org.balloonlab.hypervisor.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;
import org.balloonlab.hypervisor.clock.ClockState;
import org.balloonlab.hypervisor.clock.QueueFullException;
import org.balloonlab.hypervisor.clock.LabClock;
import org.balloonlab.proto.LabClockState;
import org.balloonlab.proto.LabClockTerms;

/**
 * The services' one door to the lab clock ({@code docs/lab-clock.md}). Under a lockstep clock a VM's operations
 * are applied in its turn and lifecycle and operator calls at a boundary; on a hypervisor that runs free (no
 * clock) everything runs at once on the calling thread, as it arrives. The services call through here either
 * way, so they read the same in both.
 */
final class LabClockEdge {
  private static final LabClockState FREE = LabClockState.newBuilder()
      .setLockstep(false)
      .setHeldAtNs(-1)
      .setReproducible(false)
      .addNotReproducibleBecause("the hypervisor runs free (--lab-clock free): VMs run at their own pace")
      .build();

  private final LabClock clock;

  /** @param clock the lab clock, or {@code null} for a hypervisor that runs free */
  LabClockEdge(LabClock clock) {
    this.clock = clock;
  }

  boolean lockstep() {
    return clock != null;
  }

  /** The clock, or {@code null} when running free. */
  LabClock clock() {
    return clock;
  }

  /**
   * Runs {@code op}, an operation of VM {@code vmId} that may touch shared state, in the VM's turn; answers
   * {@code responses} with RESOURCE_EXHAUSTED instead if the VM already has too many operations waiting.
   */
  void forVm(int vmId, StreamObserver<?> responses, Runnable op) {
    if (clock == null) {
      op.run();
      return;
    }
    try {
      clock.submit(vmId, op);
    } catch (QueueFullException e) {
      responses.onError(Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
    }
  }

  /**
   * Runs {@code command} at the next boundary of the lab clock (at once while the clock waits at one).
   *
   * @param fromOperator an operator's order: in a running lab it lands where the wall clock puts it, which the
   *     run's reproducibility records
   */
  void command(Runnable command, boolean fromOperator) {
    if (clock == null) {
      command.run();
    } else {
      clock.command(command, fromOperator);
    }
  }

  /** Rings VM {@code vmId}'s doorbell in its next grant. */
  void ring(int vmId) {
    if (clock != null) {
      clock.ring(vmId);
    }
  }

  /** What a guest is told at power-on about the clock. */
  LabClockTerms terms() {
    return clock == null ? LabClockTerms.newBuilder().setLockstep(false).build()
        : LabClockTerms.newBuilder().setLockstep(true).setQuantumNs(clock.settings().quantumNs()).build();
  }

  /** The clock as it stands, for the management views. */
  LabClockState state() {
    if (clock == null) {
      // No lab time to tell: each VM has only its own simulated time.
      return FREE;
    }
    return toProto(clock.state());
  }

  static LabClockState toProto(ClockState s) {
    return LabClockState.newBuilder()
        .setLockstep(true)
        .setLabTimeNs(s.labTimeNs())
        .setQuantumNs(s.quantumNs())
        .setPace(s.pace())
        .setBoundaries(s.boundaries())
        .setParticipants(s.members())
        .setHeldAtNs(s.heldAtNs())
        .setReproducible(s.reproducible())
        .addAllNotReproducibleBecause(s.notReproducibleBecause())
        .setWallElapsedMs(TimeUnit.NANOSECONDS.toMillis(s.wallElapsedNanos()))
        .setSimulatedPerWallSecond(s.simulatedPerWallSecond())
        .build();
  }
}
