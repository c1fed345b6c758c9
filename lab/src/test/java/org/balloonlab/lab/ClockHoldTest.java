package org.balloonlab.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.balloonlab.proto.GetMachineRequest;
import org.balloonlab.proto.HoldClockReply;
import org.balloonlab.proto.HoldClockRequest;
import org.balloonlab.proto.LabClockState;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.units.HostPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's side of {@code HoldClock}, against a fake hypervisor that keeps a clock of 10 ms quanta: a hold
 * taken at 0, runs to lab times rounded up to a boundary, a hypervisor that runs free, one that refuses or ends the
 * hold, and a wait given up.
 */
class ClockHoldTest {
  private static final long QUANTUM = TimeUnit.MILLISECONDS.toNanos(10);

  @TempDir
  Path dir;

  private Server server;
  private ManagementClient management;
  private final List<Long> asked = new CopyOnWriteArrayList<>();

  /**
   * A hypervisor's management service whose clock runs to each time asked up to {@code answerUpToNs} (later ones
   * it never reaches), and refuses to go beyond {@code refuseAfterNs}.
   */
  private final class FakeHypervisor extends ManagementServiceGrpc.ManagementServiceImplBase {
    private final boolean lockstep;
    private final long refuseAfterNs;
    private final long answerUpToNs;

    FakeHypervisor(boolean lockstep, long refuseAfterNs, long answerUpToNs) {
      this.lockstep = lockstep;
      this.refuseAfterNs = refuseAfterNs;
      this.answerUpToNs = answerUpToNs;
    }

    @Override
    public void getMachine(GetMachineRequest request, StreamObserver<MachineState> reply) {
      reply.onNext(MachineState.newBuilder().setClock(LabClockState.newBuilder().setLockstep(lockstep)
          .setQuantumNs(QUANTUM).setReproducible(lockstep)).build());
      reply.onCompleted();
    }

    @Override
    public StreamObserver<HoldClockRequest> holdClock(StreamObserver<HoldClockReply> replies) {
      return new StreamObserver<>() {
        @Override
        public void onNext(HoldClockRequest r) {
          asked.add(r.getUntilNs());
          if (r.getUntilNs() > refuseAfterNs) {
            replies.onError(Status.INVALID_ARGUMENT.withDescription("not beyond " + refuseAfterNs).asException());
            return;
          }
          if (r.getUntilNs() <= answerUpToNs) {
            long held = (r.getUntilNs() + QUANTUM - 1) / QUANTUM * QUANTUM;
            replies.onNext(HoldClockReply.newBuilder().setLabTimeNs(held).setClock(LabClockState.newBuilder()
                .setLockstep(true).setLabTimeNs(held).setHeldAtNs(held).setQuantumNs(QUANTUM)).build());
          }
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
          replies.onCompleted();
        }
      };
    }
  }

  private Launcher serve(FakeHypervisor hypervisor) throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(hypervisor).build()
        .start();
    management = new ManagementClient(HostPort.parse("127.0.0.1:" + server.getPort()),
        org.balloonlab.transport.ClientSecurity.NONE);
    return new Launcher(dir, "64m", "64m");
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (management != null) {
      management.close();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aLockstepHypervisorIsHeldAtZeroThenAtEachBoundaryAsked() throws Exception {
    Launcher launcher = serve(new FakeHypervisor(true, Long.MAX_VALUE, Long.MAX_VALUE));
    try (RunClock clock = launcher.holdAtZero(management)) {
      assertInstanceOf(ClockHold.class, clock);
      assertTrue(clock.holds());
      assertEquals(0, clock.lastState().getHeldAtNs());
      assertEquals(0, clock.runTo(0, () -> false), "held there already: nothing asked");
      assertEquals(30_000_000L, clock.runTo(25_000_000L, () -> false), "rounded up to the next boundary");
      assertEquals(30_000_000L, clock.runTo(30_000_000L, () -> false), "held there already: nothing asked");
      assertEquals(1_000_000_000L, clock.runTo(1_000_000_000L, () -> false));
      assertEquals(1_000_000_000L, clock.lastState().getLabTimeNs());
    }
    assertEquals(List.of(0L, 25_000_000L, 1_000_000_000L), asked);
  }

  @Test
  void aHypervisorThatRunsFreeIsPacedByTheWallClock() throws Exception {
    Launcher launcher = serve(new FakeHypervisor(false, Long.MAX_VALUE, Long.MAX_VALUE));
    try (RunClock clock = launcher.holdAtZero(management)) {
      assertInstanceOf(WallPacing.class, clock);
      assertFalse(clock.holds());
      assertTrue(clock.runTo(TimeUnit.MILLISECONDS.toNanos(30), () -> false) >= TimeUnit.MILLISECONDS.toNanos(30));
    }
    assertEquals(List.of(), asked, "no hold asked of a hypervisor that runs free");
  }

  @Test
  void aRefusedRequestEndsTheHoldWithTheHypervisorsWords() throws Exception {
    Launcher launcher = serve(new FakeHypervisor(true, 50_000_000L, Long.MAX_VALUE));
    try (RunClock clock = launcher.holdAtZero(management)) {
      assertEquals(50_000_000L, clock.runTo(50_000_000L, () -> false));
      IOException e = assertThrows(IOException.class, () -> clock.runTo(60_000_000L, () -> false));
      assertTrue(e.getMessage().contains("INVALID_ARGUMENT not beyond 50000000"), e.getMessage());
      assertThrows(IOException.class, () -> clock.runTo(70_000_000L, () -> false), "the hold is over");
    }
  }

  @Test
  void aWaitIsGivenUpWhenAskedTo() throws Exception {
    Launcher launcher = serve(new FakeHypervisor(true, Long.MAX_VALUE, 0));
    try (RunClock clock = launcher.holdAtZero(management)) {
      // The clock never gets there; the wait ends when the caller says so (a Ctrl-C, the hypervisor gone).
      assertEquals(-1, clock.runTo(10_000_000L, () -> true));
    }
  }

  @Test
  void aHypervisorThatNeverAnswersTheFirstHoldIsReportedOnCtrlC() throws Exception {
    Launcher launcher = serve(new FakeHypervisor(true, Long.MAX_VALUE, -1));
    IOException e = assertThrows(IOException.class, () -> ClockHold.open(management, () -> true));
    assertTrue(e.getMessage().contains("interrupted while taking hold"), e.getMessage());
    assertFalse(launcher.stopRequested());
  }
}
