package org.balloonlab.hypervisor.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.balloonlab.proto.AccessAttach;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
import org.balloonlab.proto.BalloonCredentials;
import org.balloonlab.proto.BalloonServiceGrpc;
import org.balloonlab.proto.BalloonStartRequest;
import org.balloonlab.proto.DriverMode;
import org.balloonlab.proto.DriverModeRequest;
import org.balloonlab.proto.HoldClockReply;
import org.balloonlab.proto.HoldClockRequest;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOffVmRequest;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmSpec;
import org.balloonlab.transport.PeerAddresses;
import org.balloonlab.transport.Token;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile clients against the tokens, over real gRPC on a localhost port: no token, a wrong one, the lab token on
 * the operator's calls, a token in another header form, a 64 KiB token. Each call ends with the exact status and
 * message, and the VM powered on legitimately keeps running with its data intact.
 */
class HostileTokenTest {
  private static final String NO_OPERATOR_TOKEN = " needs the operator token, sent as 'authorization: Bearer "
      + "<token>', and the call sent none; " + HostileFixture.OPERATOR_HINT;
  private static final String NO_LAB_TOKEN = " needs the lab token (or the operator token), sent as "
      + "'authorization: Bearer <token>', and the call sent none; " + HostileFixture.LAB_HINT;

  @TempDir
  Path dir;
  private HostileFixture lab;

  @AfterEach
  void close() throws InterruptedException {
    if (lab != null) {
      lab.close();
    }
  }

  private HostileFixture loopbackLab() throws Exception {
    lab = new HostileFixture(dir, PeerAddresses::isLoopback);
    return lab;
  }

  @Test
  void withoutATokenNothingButTheReadOnlyViewsAnswers() throws Exception {
    HostileFixture f = loopbackLab();
    ManagedChannel none = f.channel(null);
    assertRefused(Status.Code.UNAUTHENTICATED, "PowerOffVm" + NO_OPERATOR_TOKEN, () -> powerOffLegit(none));
    assertRefused(Status.Code.UNAUTHENTICATED, "SetBalloonTarget" + NO_OPERATOR_TOKEN, () -> balloonLegit(none));
    assertRefused(Status.Code.UNAUTHENTICATED, "SetDriverMode" + NO_OPERATOR_TOKEN, () -> driverLegit(none));
    assertRefused(Status.Code.UNAUTHENTICATED, "HoldClock" + NO_OPERATOR_TOKEN, () -> holdClock(none));
    assertRefused(Status.Code.UNAUTHENTICATED, "PowerOn" + NO_LAB_TOKEN, () -> powerOn(none, "intruder"));
    assertRefused(Status.Code.UNAUTHENTICATED, "Start" + NO_LAB_TOKEN, () -> balloonStart(none));
    assertRefused(Status.Code.UNAUTHENTICATED, "Access" + NO_LAB_TOKEN, () -> attachLegit(none));
    // Read-only views stay open to a loopback peer.
    assertEquals(1, stub(none).listVms(ListVmsRequest.getDefaultInstance()).getVmsCount());
    f.assertLegitUnharmed();
    assertEquals(1, f.machine.snapshot().vms().size(), "no VM was created nor powered off");
  }

  @Test
  void aWrongTokenIsDenied() throws Exception {
    HostileFixture f = loopbackLab();
    ManagedChannel wrong = f.channel(Token.generate());
    String notIt = "; the token sent is not it; ";
    assertRefused(Status.Code.PERMISSION_DENIED, "PowerOffVm needs the operator token" + notIt
        + HostileFixture.OPERATOR_HINT, () -> powerOffLegit(wrong));
    assertRefused(Status.Code.PERMISSION_DENIED, "PowerOn needs the lab token (or the operator token)" + notIt
        + HostileFixture.LAB_HINT, () -> powerOn(wrong, "intruder"));
    assertRefused(Status.Code.PERMISSION_DENIED, "Access needs the lab token (or the operator token)" + notIt
        + HostileFixture.LAB_HINT, () -> attachLegit(wrong));
    f.assertLegitUnharmed();
    assertEquals(1, f.machine.snapshot().vms().size());
  }

  @Test
  void theLabTokenDoesNotOpenTheOperatorsCalls() throws Exception {
    HostileFixture f = loopbackLab();
    ManagedChannel student = f.channel(f.lab);
    String notEnough = " needs the operator token; the lab token is not enough; " + HostileFixture.OPERATOR_HINT;
    assertRefused(Status.Code.PERMISSION_DENIED, "PowerOffVm" + notEnough, () -> powerOffLegit(student));
    assertRefused(Status.Code.PERMISSION_DENIED, "SetBalloonTarget" + notEnough, () -> balloonLegit(student));
    assertRefused(Status.Code.PERMISSION_DENIED, "SetDriverMode" + notEnough, () -> driverLegit(student));
    assertRefused(Status.Code.PERMISSION_DENIED, "HoldClock" + notEnough, () -> holdClock(student));
    // What the lab token is for: joining the lab.
    powerOn(student, "student-vm");
    f.assertLegitUnharmed();
    assertEquals(2, f.machine.snapshot().vms().size());
    // And the operator token opens the operator's calls.
    balloonLegit(f.channel(f.operator));
  }

  @Test
  void aTokenInAnotherHeaderFormIsUnauthenticated() throws Exception {
    HostileFixture f = loopbackLab();
    String form = " needs the operator token, sent as 'authorization: Bearer <token>', and the authorization "
        + "header of the call is not in that form; " + HostileFixture.OPERATOR_HINT;
    for (String header : new String[] {f.operator.reveal(), "bearer " + f.operator.reveal(),
        "Token " + f.operator.reveal(), "Basic " + f.operator.reveal(), "Bearer"}) {
      ManagedChannel c = f.channelWithHeader(header);
      assertRefused(Status.Code.UNAUTHENTICATED, "PowerOffVm" + form, () -> powerOffLegit(c));
    }
    // Two spaces, or a trailing one: a Bearer header whose token is not the operator's.
    for (String header : new String[] {"Bearer  " + f.operator.reveal(), "Bearer " + f.operator.reveal() + " "}) {
      ManagedChannel c = f.channelWithHeader(header);
      assertRefused(Status.Code.PERMISSION_DENIED, "PowerOffVm needs the operator token; the token sent is not it; "
          + HostileFixture.OPERATOR_HINT, () -> powerOffLegit(c));
    }
    f.assertLegitUnharmed();
    assertEquals(1, f.machine.snapshot().vms().size());
  }

  @Test
  void aHugeTokenNeverReachesTheGateAndALargeOneIsDeniedWithoutAnEcho() throws Exception {
    HostileFixture f = loopbackLab();
    // The server advertises gRPC's 8 KiB limit on a call's header list; a 64 KiB token exceeds it, and the HTTP/2
    // layer refuses the call before any service or gate code runs.
    ManagedChannel huge = f.channelWithHeader("Bearer " + "A".repeat(64 * 1024));
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> powerOffLegit(huge));
    assertEquals(Status.Code.INTERNAL, e.getStatus().getCode(), e.getStatus().toString());
    assertEquals("http2 exception", e.getStatus().getDescription());
    assertEquals("Header size exceeded max allowed size (8192)", e.getCause().getMessage());
    // 7 KiB passes the transport and is longer than any token: denied, and the message does not repeat it.
    ManagedChannel large = f.channelWithHeader("Bearer " + "A".repeat(7 * 1024));
    assertRefused(Status.Code.PERMISSION_DENIED, "PowerOffVm needs the operator token; the token sent is not it; "
        + HostileFixture.OPERATOR_HINT, () -> powerOffLegit(large));
    f.assertLegitUnharmed();
    assertEquals(1, f.machine.snapshot().vms().size());
  }

  @Test
  void aPeerNotOnLoopbackNeedsATokenForReadOnlyViews() throws Exception {
    lab = new HostileFixture(dir, peer -> false);
    ManagedChannel none = lab.channel(null);
    assertRefused(Status.Code.UNAUTHENTICATED, "ListVms needs the lab or the operator token from a peer that is not "
        + "on loopback, sent as 'authorization: Bearer <token>', and the call sent none; " + HostileFixture.LAB_HINT,
        () -> stub(none).listVms(ListVmsRequest.getDefaultInstance()));
    assertEquals(1, stub(lab.channel(lab.lab)).listVms(ListVmsRequest.getDefaultInstance()).getVmsCount());
    lab.assertLegitUnharmed();
  }

  // ---------------------------------------------------------------- the calls

  private static ManagementServiceGrpc.ManagementServiceBlockingStub stub(ManagedChannel c) {
    return ManagementServiceGrpc.newBlockingStub(c).withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  private VmSelector legit() {
    return VmSelector.newBuilder().setVmId(lab.legitVmId()).build();
  }

  private void powerOffLegit(ManagedChannel c) {
    stub(c).powerOffVm(PowerOffVmRequest.newBuilder().setVm(legit()).build());
  }

  private void balloonLegit(ManagedChannel c) {
    stub(c).setBalloonTarget(SetBalloonTargetRequest.newBuilder().setVm(legit()).setTargetPages(8).build());
  }

  private void driverLegit(ManagedChannel c) {
    stub(c).setDriverMode(SetDriverModeRequest.newBuilder().setVm(legit())
        .setMode(DriverModeRequest.newBuilder().setMode(DriverMode.DRIVER_MODE_DISABLED)).build());
  }

  private void powerOn(ManagedChannel c, String name) {
    MachineServiceGrpc.newBlockingStub(c).withDeadlineAfter(5, TimeUnit.SECONDS).powerOn(PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName(name).setOsKind("linux").setMemoryPages(8)).build());
  }

  private void balloonStart(ManagedChannel c) {
    BalloonServiceGrpc.newBlockingStub(c).withDeadlineAfter(5, TimeUnit.SECONDS).start(BalloonStartRequest
        .newBuilder().setVm(BalloonCredentials.newBuilder().setVmId(lab.legitVmId())).build());
  }

  /** A second attach to the legitimate VM (without its credential, which a hostile client does not have). */
  private void attachLegit(ManagedChannel c) throws Exception {
    CompletableFuture<Throwable> end = new CompletableFuture<>();
    StreamObserver<AccessRequest> requests = MachineServiceGrpc.newStub(c).access(new StreamObserver<>() {
      @Override
      public void onNext(AccessResponse r) {
        end.complete(null);
      }

      @Override
      public void onError(Throwable t) {
        end.complete(t);
      }

      @Override
      public void onCompleted() {
        end.complete(null);
      }
    });
    requests.onNext(AccessRequest.newBuilder().setAttach(AccessAttach.newBuilder().setVmId(lab.legitVmId())).build());
    Throwable t = end.get(10, TimeUnit.SECONDS);
    if (t instanceof StatusRuntimeException s) {
      throw s;
    }
    throw new AssertionError("the attach was not refused: " + t);
  }

  private void holdClock(ManagedChannel c) throws Exception {
    CompletableFuture<Throwable> end = new CompletableFuture<>();
    StreamObserver<HoldClockRequest> requests = ManagementServiceGrpc.newStub(c).holdClock(new StreamObserver<>() {
      @Override
      public void onNext(HoldClockReply r) {
        end.complete(null);
      }

      @Override
      public void onError(Throwable t) {
        end.complete(t);
      }

      @Override
      public void onCompleted() {
        end.complete(null);
      }
    });
    requests.onNext(HoldClockRequest.newBuilder().setUntilNs(0).build());
    Throwable t = end.get(10, TimeUnit.SECONDS);
    if (t instanceof StatusRuntimeException s) {
      throw s;
    }
    requests.onCompleted();
    throw new AssertionError("the hold was not refused: " + t);
  }

  private static void assertRefused(Status.Code code, String message, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    assertEquals(message, e.getStatus().getDescription());
  }
}
