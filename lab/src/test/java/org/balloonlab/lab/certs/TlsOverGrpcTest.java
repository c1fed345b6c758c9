package org.balloonlab.lab.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.balloonlab.hypervisor.grpc.HypervisorServer;
import org.balloonlab.hypervisor.grpc.ServerGate;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.transport.Channels;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.transport.ServerTls;
import org.balloonlab.transport.Token;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A hypervisor serving TLS on a real localhost port, with certificates from {@link LabCertificates}. */
class TlsOverGrpcTest {
  @TempDir
  Path dir;
  private final Token operator = Token.generate();
  private final Token lab = Token.generate();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private Machine machine;
  private HypervisorServer server;
  private Path ca;

  @BeforeEach
  void certificates() throws Exception {
    LabCertificates.createCa(dir.resolve("ca"), "lab", Duration.ofDays(1));
    LabCertificates.createCa(dir.resolve("other"), "other", Duration.ofDays(1));
    LabCertificates.issue(dir.resolve("ca"), "hv", List.of("localhost", "127.0.0.1"), dir.resolve("certs"),
        Duration.ofDays(1));
    LabCertificates.issue(dir.resolve("ca"), "student", List.of(), dir.resolve("certs"), Duration.ofDays(1));
    LabCertificates.issue(dir.resolve("other"), "stranger", List.of(), dir.resolve("certs"), Duration.ofDays(1));
    ca = dir.resolve("ca/ca.crt");
  }

  @AfterEach
  void stop() throws InterruptedException {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.stop();
    }
    if (machine != null) {
      machine.close();
    }
  }

  private String serve(Path clientCa) throws Exception {
    machine = new Machine(new MachineConfig(64, 256, dir.resolve("host.swap"), 64, CostModel.DEFAULT, 1));
    ServerTls tls = new ServerTls(dir.resolve("certs/hv.crt"), dir.resolve("certs/hv.key"), clientCa);
    server = new HypervisorServer(tls.serverBuilder(new InetSocketAddress("127.0.0.1", 0)), machine,
        Duration.ofHours(1), null, ServerGate.of(operator, lab, () -> "op", () -> "lab")).start();
    return "localhost:" + server.port();
  }

  private int listVms(ManagedChannel c) {
    channels.add(c);
    return ManagementServiceGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS)
        .listVms(ListVmsRequest.getDefaultInstance()).getVmsCount();
  }

  @Test
  void aClientWithoutTheLabsCaCannotConnectAndOneWithItCan() throws Exception {
    String target = serve(null);
    // The platform's trust store does not know the lab's CA.
    StatusRuntimeException system = assertThrows(StatusRuntimeException.class,
        () -> listVms(NettyChannelBuilder.forTarget(target, TlsChannelCredentials.create()).build()));
    assertEquals(Status.Code.UNAVAILABLE, system.getStatus().getCode());
    assertTrue(Channels.describe(system).contains("TLS handshake failed: PKIX path building failed"),
        Channels.describe(system));
    // Another lab's CA did not sign the hypervisor's certificate.
    StatusRuntimeException other = assertThrows(StatusRuntimeException.class, () -> listVms(Channels.builder(target,
        new ClientSecurity(lab, dir.resolve("other/ca.crt"), null, null)).build()));
    assertEquals(Status.Code.UNAVAILABLE, other.getStatus().getCode());
    assertTrue(Channels.describe(other).contains("certificat") || Channels.describe(other).contains("PKIX"),
        Channels.describe(other));
    // A plaintext client is not understood at all.
    StatusRuntimeException plain = assertThrows(StatusRuntimeException.class,
        () -> listVms(Channels.builder(target, ClientSecurity.NONE.withToken(lab)).build()));
    assertEquals(Status.Code.UNAVAILABLE, plain.getStatus().getCode());
    assertEquals(0, listVms(Channels.builder(target, new ClientSecurity(lab, ca, null, null)).build()));
  }

  @Test
  void mutualTlsRefusesAClientWithoutACertificateSignedByTheLab() throws Exception {
    String target = serve(ca);
    StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
        () -> listVms(Channels.builder(target, new ClientSecurity(lab, ca, null, null)).build()));
    assertEquals(Status.Code.UNAVAILABLE, none.getStatus().getCode());
    assertTrue(Channels.describe(none).contains("CERTIFICATE_REQUIRED"), Channels.describe(none));
    StatusRuntimeException stranger = assertThrows(StatusRuntimeException.class,
        () -> listVms(Channels.builder(target, new ClientSecurity(lab, ca, dir.resolve("certs/stranger.crt"),
            dir.resolve("certs/stranger.key"))).build()));
    assertEquals(Status.Code.UNAVAILABLE, stranger.getStatus().getCode());
    assertEquals(0, listVms(Channels.builder(target, new ClientSecurity(lab, ca, dir.resolve("certs/student.crt"),
        dir.resolve("certs/student.key"))).build()));
  }
}
