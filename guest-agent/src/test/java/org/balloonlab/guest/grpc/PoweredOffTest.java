package org.balloonlab.guest.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.balloonlab.proto.AccessAttached;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.PowerOffRequest;
import org.balloonlab.proto.PowerOffResponse;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The guest knows its VM was powered off from the status detail the hypervisor attaches, not from the status
 * text: over the in-process transport, a fake machine refuses the guest's calls with a {@code FAILED_PRECONDITION}
 * with or without that detail.
 */
class PoweredOffTest {
  private static final String WHY = "powered off by the operator";
  /** What the hypervisor says in the status text of a powered-off VM. */
  private static final String TEXT = "vm1 (id 1) is powered off (" + WHY + ")";

  /** Powers a VM on and attaches its access stream, then refuses its first batch and its power-off. */
  static final class RefusingMachine extends MachineServiceGrpc.MachineServiceImplBase {
    private final StatusRuntimeException refusal;

    RefusingMachine(StatusRuntimeException refusal) {
      this.refusal = refusal;
    }

    @Override
    public void powerOn(PowerOnRequest request, StreamObserver<PowerOnResponse> responses) {
      responses.onNext(PowerOnResponse.newBuilder().setVmId(1).setCredential("secret").setMaxBatchAccesses(64)
          .build());
      responses.onCompleted();
    }

    @Override
    public void powerOff(PowerOffRequest request, StreamObserver<PowerOffResponse> responses) {
      responses.onError(refusal);
    }

    @Override
    public StreamObserver<AccessRequest> access(StreamObserver<AccessResponse> responses) {
      return new StreamObserver<>() {
        @Override
        public void onNext(AccessRequest request) {
          if (request.hasAttach()) {
            responses.onNext(AccessResponse.newBuilder()
                .setAttached(AccessAttached.newBuilder().setVmId(request.getAttach().getVmId())).build());
          } else {
            responses.onError(refusal);
          }
        }

        @Override
        public void onError(Throwable t) {
          // The guest went away; nothing to answer.
        }

        @Override
        public void onCompleted() {
          responses.onCompleted();
        }
      };
    }
  }

  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aBatchRefusedWithTheDetailIsAPoweredOffVm() throws Exception {
    StatusRuntimeException e = refuseFirstBatch(refusal(TEXT, errorInfo(PoweredOff.REASON, PoweredOff.DOMAIN)));

    assertEquals(Optional.of(new PoweredOff("vm1", WHY)), PoweredOff.from(e));
    assertEquals("the access stream failed: " + TEXT, e.getStatus().getDescription(),
        "the text the guest agent prints is the hypervisor's, as before");
  }

  @Test
  void aPowerOffRefusedWithTheDetailIsAPoweredOffVm() throws Exception {
    MachineConnection connection = connect(refusal(TEXT, errorInfo(PoweredOff.REASON, PoweredOff.DOMAIN)));
    connection.powerOn("vm1", "linux", 16);

    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, connection::powerOff);

    assertEquals(Optional.of(new PoweredOff("vm1", WHY)), PoweredOff.from(e));
  }

  @Test
  void aBatchRefusedWithDataLossAndTheDetailIsAVmPoweredOffBecauseHostSwapLostAPage() throws Exception {
    String why = "host swap failed: a page could not be read back and is lost (Input/output error)";
    StatusRuntimeException e = refuseFirstBatch(StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Code.DATA_LOSS_VALUE).setMessage("vm1 (id 1) is powered off (" + why + ")")
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(PoweredOff.REASON).setDomain(PoweredOff.DOMAIN)
            .putMetadata("vm", "vm1").putMetadata("why", why).build())).build()));

    assertEquals(Status.Code.DATA_LOSS, e.getStatus().getCode());
    assertEquals(Optional.of(new PoweredOff("vm1", why)), PoweredOff.from(e));
  }

  @Test
  void theSameRefusalWithoutTheDetailIsNotPoweredOff() throws Exception {
    StatusRuntimeException e = refuseFirstBatch(Status.FAILED_PRECONDITION.withDescription(TEXT)
        .asRuntimeException());

    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    assertEquals(Optional.empty(), PoweredOff.from(e), "the text alone does not say the VM is off");
  }

  @Test
  void anotherPreconditionIsNotPoweredOff() throws Exception {
    StatusRuntimeException e = refuseFirstBatch(refusal("vm1 (id 1) is already attached",
        errorInfo("VM_ALREADY_ATTACHED", PoweredOff.DOMAIN)));

    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    assertEquals(Optional.empty(), PoweredOff.from(e));
  }

  @Test
  void theReasonCountsOnlyInBalloonLabsDomain() throws Exception {
    StatusRuntimeException e = refuseFirstBatch(refusal(TEXT, errorInfo(PoweredOff.REASON, "example.com")));

    assertEquals(Optional.empty(), PoweredOff.from(e));
  }

  @Test
  void failuresThatAreNoStatusAreNotPoweredOff() {
    assertEquals(Optional.empty(), PoweredOff.from(new IllegalStateException(TEXT)));
    assertEquals(Optional.empty(), PoweredOff.from(Status.UNAVAILABLE.withDescription(TEXT).asRuntimeException()));
  }

  /** Attaches a guest's access stream to a machine that refuses its first batch; answers what the guest got. */
  private StatusRuntimeException refuseFirstBatch(StatusRuntimeException refusal) throws Exception {
    MachineConnection connection = connect(refusal);
    connection.powerOn("vm1", "linux", 16);
    RemotePhysicalMemory memory = connection.openMemory(8, 2, (pfn, expected, actual) -> { });
    try {
      memory.write(0, 42);
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, memory::flush);
      assertTrue(memory.failure() != null, "the stream is over");
      return e;
    } finally {
      memory.close();
    }
  }

  private MachineConnection connect(StatusRuntimeException refusal) throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).addService(new RefusingMachine(refusal)).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
    return new MachineConnection(channel);
  }

  /** A {@code FAILED_PRECONDITION} as the hypervisor sends it, the detail in the status's trailers. */
  private static StatusRuntimeException refusal(String text, ErrorInfo detail) {
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Code.FAILED_PRECONDITION_VALUE).setMessage(text).addDetails(Any.pack(detail)).build());
  }

  private static ErrorInfo errorInfo(String reason, String domain) {
    return ErrorInfo.newBuilder().setReason(reason).setDomain(domain).putMetadata("vm", "vm1")
        .putMetadata("why", WHY).build();
  }
}
