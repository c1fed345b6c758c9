package org.balloonlab.hypervisor.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.BalloonCapability;
import org.balloonlab.proto.BalloonCredentials;
import org.balloonlab.proto.BalloonPageStatus;
import org.balloonlab.proto.BalloonPagesReply;
import org.balloonlab.proto.BalloonPagesRequest;
import org.balloonlab.proto.BalloonServiceGrpc;
import org.balloonlab.proto.BalloonStartRequest;
import org.balloonlab.proto.GetVmRequest;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmSpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request ids that make retries land once, over an in-process transport: a Lock whose answer an injected
 * fault holds back past the caller's deadline is answered to its retry without being applied twice, ids and
 * PowerOn request ids are validated, and a repeated PowerOn answers the VM it powered on.
 */
class RetryOverGrpcTest {
  static final int BALLOON_BATCH = 8;

  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  private Machine machine;
  private MachineServiceGrpc.MachineServiceBlockingStub machines;
  private ManagementServiceGrpc.ManagementServiceBlockingStub management;
  private BalloonServiceGrpc.BalloonServiceBlockingStub balloon;

  @BeforeEach
  void startServer() throws IOException {
    machine = grpc.register(new Machine(new MachineConfig(64, 256, dir.resolve("host.swap"), 16,
        CostModel.DEFAULT, 5, BALLOON_BATCH, Long.MAX_VALUE)));
    String name = InProcessServerBuilder.generateName();
    grpc.register(new HypervisorServer(InProcessServerBuilder.forName(name), machine, Duration.ofHours(1))
        .inject(InjectedFaults.parse(List.of("delay-lock-reply=vm1:2:30s")))
        .start());
    ManagedChannel channel = grpc.register(InProcessChannelBuilder.forName(name).build());
    machines = MachineServiceGrpc.newBlockingStub(channel);
    management = ManagementServiceGrpc.newBlockingStub(channel);
    balloon = BalloonServiceGrpc.newBlockingStub(channel);
  }

  private PowerOnResponse powerOn(String name, long pages, String requestId) {
    return machines.powerOn(PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName(name).setOsKind("linux").setMemoryPages(pages))
        .setRequestId(requestId)
        .build());
  }

  private static BalloonPagesRequest lock(BalloonCredentials creds, long session, long requestId, int... pfns) {
    BalloonPagesRequest.Builder b = BalloonPagesRequest.newBuilder().setVm(creds).setSessionId(session)
        .setRequestId(requestId);
    for (int pfn : pfns) {
      b.addPfns(pfn);
    }
    return b.build();
  }

  private static Status.Code code(Runnable call) {
    return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
  }

  private long balloonSize(PowerOnResponse vm) {
    return management.getVm(GetVmRequest.newBuilder().setVmId(vm.getVmId()).build()).getBalloon().getSizePages();
  }

  @Test
  void aLockWhoseAnswerWasHeldBackIsAnsweredToItsRetryAndAppliedOnce() {
    PowerOnResponse vm = powerOn("vm1", 32, "");
    BalloonCredentials creds = BalloonCredentials.newBuilder().setVmId(vm.getVmId())
        .setCredential(vm.getCredential()).build();
    long session = balloon.start(BalloonStartRequest.newBuilder().setVm(creds)
        .addCapabilities(BalloonCapability.BALLOON_CAPABILITY_BATCHED_LOCK).build()).getSessionId();
    management.setBalloonTarget(SetBalloonTargetRequest.newBuilder()
        .setVm(VmSelector.newBuilder().setVmId(vm.getVmId())).setTargetPages(6).build());
    balloon.lock(lock(creds, session, 1, 0, 1));

    // The second Lock of vm1 is applied, then its answer is held back for 30 s: the caller's deadline passes.
    assertEquals(Status.Code.DEADLINE_EXCEEDED, code(() -> balloon.withDeadlineAfter(300, TimeUnit.MILLISECONDS)
        .lock(lock(creds, session, 2, 2, 3, 4))));
    assertEquals(5, balloonSize(vm), "it was applied");

    BalloonPagesReply retry = balloon.withDeadlineAfter(10, TimeUnit.SECONDS).lock(lock(creds, session, 2, 2, 3, 4));

    assertEquals(List.of(BalloonPageStatus.BALLOON_PAGE_OK, BalloonPageStatus.BALLOON_PAGE_OK,
        BalloonPageStatus.BALLOON_PAGE_OK), retry.getStatusesList(), "the first call's answer, not ALREADY_LOCKED");
    assertEquals(6, retry.getTarget().getTargetPages());
    assertEquals(5, balloonSize(vm), "and not applied again");
    assertEquals(5, management.getVm(GetVmRequest.newBuilder().setVmId(vm.getVmId()).build()).getBalloon()
        .getLockedTotal());
    assertEquals(Status.Code.FAILED_PRECONDITION, code(() -> balloon.lock(lock(creds, session, 1, 0, 1))),
        "an older id is refused");
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> balloon.lock(lock(creds, session, 2, 5))),
        "the same id with other pages is refused");
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> balloon.lock(lock(creds, session, -1, 5))),
        "an id over 2^63 - 1 is refused");
    machine.checkInvariants();
  }

  @Test
  void aRepeatedPowerOnAnswersTheSameVmAndItsCredential() {
    String id = UUID.randomUUID().toString();
    PowerOnResponse first = powerOn("vm2", 16, id);

    PowerOnResponse again = powerOn("vm2", 16, id);

    assertEquals(first.getVmId(), again.getVmId());
    assertEquals(first.getCredential(), again.getCredential());
    assertEquals(1, management.listVms(ListVmsRequest.getDefaultInstance()).getVmsCount());
    assertEquals(Status.Code.ALREADY_EXISTS, code(() -> powerOn("vm2", 32, id)), "another spec is refused");
    assertEquals(Status.Code.ALREADY_EXISTS, code(() -> powerOn("vm2", 16, UUID.randomUUID().toString())),
        "another request for the same name is refused as before");
  }

  @Test
  void aMalformedPowerOnRequestIdIsRefusedWithABoundedMessage() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> powerOn("vm2", 16, "\u00e9".repeat(50_000)));

    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().length() < 300, e.getStatus().getDescription());
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> powerOn("vm2", 16, "x".repeat(65))));
    assertEquals(0, management.listVms(ListVmsRequest.getDefaultInstance()).getVmsCount());
  }

  @Test
  void injectedFaultsAreValidated() {
    for (String bad : List.of("delay-lock-reply=vm1:0:1s", "delay-lock-reply=vm1:1:0s", "delay-lock-reply=vm1:1",
        "delay-lock-reply=vm 1:1:1s", "drop-everything", "delay-lock-reply=vm1:1:2h", "x".repeat(10_000))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> InjectedFaults.parse(List.of(bad)), bad);
      assertTrue(e.getMessage().length() < 300, e.getMessage());
    }
    assertEquals("delay-lock-reply=vm1:3:7000ms",
        InjectedFaults.parse(List.of("delay-lock-reply=vm1:3:7s")).toString());
  }
}
