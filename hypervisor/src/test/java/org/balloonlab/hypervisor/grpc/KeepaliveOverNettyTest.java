package org.balloonlab.hypervisor.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.WatchEventsRequest;
import org.balloonlab.units.Keepalive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hypervisor's keepalive over a real Netty connection: a client that pings as often as gRPC lets any client
 * (every 10 s) on a stream that carries nothing must keep its connection. A server left at gRPC's defaults would
 * count each of those pings as abuse (it permits one every 5 minutes) and close the connection with
 * {@code ENHANCE_YOUR_CALM} after the third, about 30 s in: every idle {@code events --follow}, and every guest of a
 * lab whose clock is held, would be cut off.
 */
class KeepaliveOverNettyTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  @Test
  void aClientPingingEveryTenSecondsOnAnIdleStreamKeepsItsConnection() throws IOException {
    Machine machine = grpc.register(new Machine(new MachineConfig(64, 256, dir.resolve("host.swap"), 16,
        CostModel.DEFAULT, 3)));
    // The server's own pings would count as traffic and spare the client its pings: give it a long time of its own,
    // so only the client pings, as it does when the hypervisor runs with a longer --keepalive than its guests.
    Keepalive serverSide = new Keepalive(Keepalive.MAX_TIME, Keepalive.DEFAULT_TIMEOUT);
    HypervisorServer server = grpc.register(new HypervisorServer(
        serverSide.applyTo(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))), machine,
        Duration.ofHours(1)).start());
    ManagedChannel channel = grpc.register(Keepalive.DEFAULT.applyTo(
        NettyChannelBuilder.forTarget("127.0.0.1:" + server.port()).usePlaintext()).build());

    AtomicReference<Throwable> ended = new AtomicReference<>();
    ManagementServiceGrpc.newStub(channel).watchEvents(WatchEventsRequest.newBuilder().setFollow(true).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(MachineEvent event) {}

          @Override
          public void onError(Throwable t) {
            ended.set(t);
          }

          @Override
          public void onCompleted() {
            ended.set(new IllegalStateException("the event stream completed"));
          }
        });

    // Four of the client's pings: one more than a server at gRPC's defaults tolerates.
    await("the idle stream stays open").during(Duration.ofSeconds(42)).atMost(Duration.ofSeconds(45))
        .pollInterval(Duration.ofMillis(500)).until(() -> ended.get() == null);
    assertNull(ended.get());
  }
}
