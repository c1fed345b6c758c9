package org.balloonlab.guest.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A power-on whose answer is lost is sent again with the same request id, so the hypervisor answers the VM it
 * powered on instead of a second one or ALREADY_EXISTS; a refusal is not retried.
 */
class PowerOnRetryTest {
  /** Powers the VM on at every call, but answers UNAVAILABLE to the first {@code lost} of them. */
  static final class LosingMachine extends MachineServiceGrpc.MachineServiceImplBase {
    final List<PowerOnRequest> requests = new CopyOnWriteArrayList<>();
    private final int lost;
    private final Status failure;

    LosingMachine(int lost, Status failure) {
      this.lost = lost;
      this.failure = failure;
    }

    @Override
    public void powerOn(PowerOnRequest request, StreamObserver<PowerOnResponse> responses) {
      requests.add(request);
      if (requests.size() <= lost) {
        responses.onError(failure.asRuntimeException());
        return;
      }
      responses.onNext(PowerOnResponse.newBuilder().setVmId(1).setCredential("secret").build());
      responses.onCompleted();
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

  private MachineConnection connect(LosingMachine machine) throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).directExecutor().addService(machine).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    return new MachineConnection(channel);
  }

  @Test
  void anUnansweredPowerOnIsRetriedWithTheSameRequestId() throws Exception {
    LosingMachine machine = new LosingMachine(2, Status.DEADLINE_EXCEEDED);
    MachineConnection connection = connect(machine);

    PowerOnResponse vm = connection.powerOn("vm1", "linux", 16);

    assertEquals(1, vm.getVmId());
    assertEquals(3, machine.requests.size());
    String id = machine.requests.get(0).getRequestId();
    assertFalse(id.isEmpty(), "the power-on carries a request id");
    for (PowerOnRequest r : machine.requests) {
      assertEquals(id, r.getRequestId(), "every attempt carries the same id");
      assertEquals(machine.requests.get(0).getSpec(), r.getSpec());
    }
  }

  @Test
  void aRefusedPowerOnIsNotRetried() throws Exception {
    LosingMachine machine = new LosingMachine(1, Status.ALREADY_EXISTS);
    MachineConnection connection = connect(machine);

    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> connection.powerOn("vm1", "linux", 16));

    assertEquals(Status.Code.ALREADY_EXISTS, e.getStatus().getCode());
    assertEquals(1, machine.requests.size());
  }

  @Test
  void retriesAreBounded() throws Exception {
    LosingMachine machine = new LosingMachine(100, Status.UNAVAILABLE);
    MachineConnection connection = connect(machine);

    assertThrows(StatusRuntimeException.class, () -> connection.powerOn("vm1", "linux", 16));

    assertEquals(1 + MachineConnection.POWER_ON_RETRIES, machine.requests.size());
  }
}
