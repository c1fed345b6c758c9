package org.balloonlab.hypervisor.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.balloonlab.hypervisor.grpc.HypervisorServer;
import org.balloonlab.hypervisor.grpc.ServerGate;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.AccessAttach;
import org.balloonlab.proto.AccessBatch;
import org.balloonlab.proto.AccessOp;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
import org.balloonlab.proto.GetVmRequest;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.VmSpec;
import org.balloonlab.proto.VmState;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.transport.Channels;
import org.balloonlab.transport.Token;

/**
 * A hypervisor on a real localhost port with both tokens on, and one VM powered on legitimately (with the lab
 * token) whose guest wrote every page of it: the bystander every hostile call must leave running with its data
 * intact. Shared by the hostile-client tests; {@link #close()} stops every channel, the server and the machine.
 *
 * <p>Every peer of a localhost server is on loopback; {@code trusted} chooses which peers the gate treats so, so
 * a test can also play a peer from another machine.
 */
final class HostileFixture implements AutoCloseable {
  static final int FRAMES = 256;
  static final int LEGIT_PAGES = 32;
  static final String OPERATOR_HINT = "OPERATOR-HINT";
  static final String LAB_HINT = "LAB-HINT";

  final Token operator = Token.generate();
  final Token lab = Token.generate();
  final Machine machine;
  final HypervisorServer server;
  final String target;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final Legit legit;

  HostileFixture(Path dir, Predicate<SocketAddress> trusted) throws IOException, InterruptedException {
    machine = new Machine(new MachineConfig(FRAMES, 4 * FRAMES, dir.resolve("host.swap"), 1024, CostModel.DEFAULT,
        7));
    server = new HypervisorServer(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)), machine,
        Duration.ofHours(1), null, ServerGate.of(operator, lab, trusted, () -> OPERATOR_HINT, () -> LAB_HINT))
        .start();
    target = "127.0.0.1:" + server.port();
    legit = new Legit();
  }

  /** A channel that sends {@code token} on every call, or nothing when it is {@code null}. */
  ManagedChannel channel(Token token) {
    return keep(Channels.builder(target, ClientSecurity.NONE.withToken(token)).build());
  }

  /** A channel that sends {@code authorization: <header>} on every call, as a hostile client writes it. */
  ManagedChannel channelWithHeader(String header) {
    Metadata m = new Metadata();
    m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), header);
    ClientInterceptor attach = MetadataUtils.newAttachHeadersInterceptor(m);
    return keep(NettyChannelBuilder.forTarget(target).usePlaintext().intercept(attach).build());
  }

  private ManagedChannel keep(ManagedChannel c) {
    channels.add(c);
    return c;
  }

  /** The legitimate VM's id. */
  int legitVmId() {
    return legit.vm.getVmId();
  }

  /**
   * Checks the bystander: still powered on and attached, every page reads back what its guest wrote (0 integrity
   * and isolation violations), and the machine's frame accounting holds.
   */
  void assertLegitUnharmed() throws InterruptedException {
    VmState state = ManagementServiceGrpc.newBlockingStub(channel(operator)).withDeadlineAfter(5, TimeUnit.SECONDS)
        .getVm(GetVmRequest.newBuilder().setVmId(legit.vm.getVmId()).build());
    assertTrue(state.getAttached(), "the legitimate VM is still attached");
    assertEquals(0, legit.violations(), "pages of the legitimate VM that read back another value");
    machine.checkInvariants();
  }

  @Override
  public void close() throws InterruptedException {
    legit.close();
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    server.stop();
    machine.close();
  }

  /** The bystander's guest: powered on with the lab token, attached, every page written with its own value. */
  private final class Legit {
    final PowerOnResponse vm;
    private final StreamObserver<AccessRequest> requests;
    private final BlockingQueue<AccessResponse> responses = new LinkedBlockingQueue<>();
    private long sequence;

    Legit() throws InterruptedException {
      ManagedChannel c = channel(lab);
      vm = MachineServiceGrpc.newBlockingStub(c).withDeadlineAfter(5, TimeUnit.SECONDS).powerOn(
          PowerOnRequest.newBuilder().setSpec(VmSpec.newBuilder().setName("legit").setOsKind("linux")
              .setMemoryPages(LEGIT_PAGES)).build());
      requests = MachineServiceGrpc.newStub(c).access(new StreamObserver<>() {
        @Override
        public void onNext(AccessResponse r) {
          responses.add(r);
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
        }
      });
      requests.onNext(AccessRequest.newBuilder().setAttach(AccessAttach.newBuilder().setVmId(vm.getVmId())
          .setCredential(vm.getCredential())).build());
      next();
      ByteBuffer ops = ByteBuffer.allocate(LEGIT_PAGES);
      ByteBuffer pfns = ByteBuffer.allocate(4 * LEGIT_PAGES).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer values = ByteBuffer.allocate(8 * LEGIT_PAGES).order(ByteOrder.LITTLE_ENDIAN);
      for (int pfn = 0; pfn < LEGIT_PAGES; pfn++) {
        ops.put((byte) AccessOp.ACCESS_OP_WRITE_VALUE);
        pfns.putInt(pfn);
        values.putLong(value(pfn));
      }
      send(ops, pfns, values);
      next();
    }

    /** What the guest wrote to {@code pfn}. */
    private long value(int pfn) {
      return 0x5EC0_0000_0000L + vm.getVmId() * 1_000_000L + pfn;
    }

    /** Reads every page back; answers how many hold another value. */
    long violations() throws InterruptedException {
      ByteBuffer ops = ByteBuffer.allocate(LEGIT_PAGES);
      ByteBuffer pfns = ByteBuffer.allocate(4 * LEGIT_PAGES).order(ByteOrder.LITTLE_ENDIAN);
      for (int pfn = 0; pfn < LEGIT_PAGES; pfn++) {
        ops.put((byte) AccessOp.ACCESS_OP_READ_VALUE);
        pfns.putInt(pfn);
      }
      send(ops, pfns, ByteBuffer.allocate(0));
      ByteBuffer read = next().getResult().getReadValues().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      long bad = 0;
      for (int pfn = 0; pfn < LEGIT_PAGES; pfn++) {
        if (read.getLong() != value(pfn)) {
          bad++;
        }
      }
      return bad;
    }

    private void send(ByteBuffer ops, ByteBuffer pfns, ByteBuffer values) {
      requests.onNext(AccessRequest.newBuilder().setBatch(AccessBatch.newBuilder().setSequence(++sequence)
          .setOps(ByteString.copyFrom(ops.flip())).setPfns(ByteString.copyFrom(pfns.flip()))
          .setWriteValues(ByteString.copyFrom(values.flip()))).build());
    }

    private AccessResponse next() throws InterruptedException {
      AccessResponse r = responses.poll(10, TimeUnit.SECONDS);
      if (r == null) {
        throw new AssertionError("the hypervisor did not answer the legitimate guest within 10 s");
      }
      return r;
    }

    void close() {
      requests.onCompleted();
    }
  }
}
