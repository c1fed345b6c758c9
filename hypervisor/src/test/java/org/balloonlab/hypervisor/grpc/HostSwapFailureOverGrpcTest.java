package org.balloonlab.hypervisor.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.AccessAttach;
import org.balloonlab.proto.AccessBatch;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.VmSpec;
import org.balloonlab.swap.SlotStore;
import org.balloonlab.swap.SwapDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A host swap that fails under a running guest, over gRPC: the guest's stream ends with DATA_LOSS (not UNKNOWN),
 * carrying the powered-off detail and why, and the other VM keeps running.
 */
class HostSwapFailureOverGrpcTest {
  private static final int FRAMES = 64;
  private static final int SLOTS = 256;

  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  /** Host swap storage in memory whose reads fail on demand. */
  static final class FailingReads implements SlotStore {
    private final long[] slots = new long[SLOTS];
    volatile boolean fail;

    @Override
    public void write(int slot, long token) {
      slots[slot] = token;
    }

    @Override
    public long read(int slot) throws IOException {
      if (fail) {
        throw new IOException("Input/output error");
      }
      return slots[slot];
    }

    @Override
    public void close() {
    }
  }

  private static AccessRequest attach(PowerOnResponse vm) {
    return AccessRequest.newBuilder().setAttach(AccessAttach.newBuilder().setVmId(vm.getVmId())
        .setCredential(vm.getCredential())).build();
  }

  private static AccessRequest writes(long sequence, int vmId, int from, int to) {
    AccessBatch.Builder b = AccessBatch.newBuilder().setSequence(sequence);
    for (int pfn = from; pfn < to; pfn++) {
      AccessBatches.write(b, pfn, HypervisorServerTest.token(vmId, pfn));
    }
    return AccessRequest.newBuilder().setBatch(b).build();
  }

  private static AccessRequest reads(long sequence, int from, int to) {
    AccessBatch.Builder b = AccessBatch.newBuilder().setSequence(sequence);
    for (int pfn = from; pfn < to; pfn++) {
      AccessBatches.read(b, pfn);
    }
    return AccessRequest.newBuilder().setBatch(b).build();
  }

  @Test
  void aPageLostInHostSwapEndsItsGuestsStreamWithDataLossAndOthersRunOn() throws Exception {
    FailingReads store = new FailingReads();
    MachineConfig config = new MachineConfig(FRAMES, SLOTS, Path.of("/host-swap/grpc.swap"), 1024,
        CostModel.DEFAULT, 3);
    Machine machine = grpc.register(new Machine(config, TlbConfig.DEFAULT, System::nanoTime,
        new SwapDevice(config.hostSwapFile(), store, SLOTS)));
    String name = InProcessServerBuilder.generateName();
    grpc.register(new HypervisorServer(InProcessServerBuilder.forName(name), machine, Duration.ofHours(1)).start());
    ManagedChannel channel = grpc.register(InProcessChannelBuilder.forName(name).build());
    MachineServiceGrpc.MachineServiceBlockingStub stub = MachineServiceGrpc.newBlockingStub(channel);
    PowerOnResponse a = stub.powerOn(PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName("a").setOsKind("linux").setMemoryPages(FRAMES)).build());
    PowerOnResponse b = stub.powerOn(PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName("b").setOsKind("linux").setMemoryPages(FRAMES)).build());

    HypervisorServerTest.Recorder<AccessResponse> aResponses = new HypervisorServerTest.Recorder<>();
    StreamObserver<AccessRequest> aRequests = MachineServiceGrpc.newStub(channel).access(aResponses);
    HypervisorServerTest.Recorder<AccessResponse> bResponses = new HypervisorServerTest.Recorder<>();
    StreamObserver<AccessRequest> bRequests = MachineServiceGrpc.newStub(channel).access(bResponses);
    aRequests.onNext(attach(a));
    aResponses.next();
    bRequests.onNext(attach(b));
    bResponses.next();
    aRequests.onNext(writes(1, a.getVmId(), 0, FRAMES));
    aResponses.next();
    bRequests.onNext(writes(1, b.getVmId(), 0, FRAMES / 2)); // a's pages go to host swap to make room
    bResponses.next();

    store.fail = true;
    aRequests.onNext(reads(2, 0, FRAMES));
    Status end = aResponses.end();
    assertEquals(Status.Code.DATA_LOSS, end.getCode(), end.toString());
    assertTrue(end.getDescription().contains("could not be read back"), end.getDescription());
    ErrorInfo info = StatusProto.fromThrowable(aResponses.error).getDetails(0).unpack(ErrorInfo.class);
    assertEquals(StatusMapping.VM_POWERED_OFF, info.getReason());
    assertEquals("a", info.getMetadataOrThrow("vm"));

    bRequests.onNext(reads(2, 0, FRAMES / 2));
    assertEquals(FRAMES / 2, AccessBatches.readValues(bResponses.next().getResult()).size(), "b runs on");
    var vms = ManagementServiceGrpc.newBlockingStub(channel).listVms(ListVmsRequest.getDefaultInstance());
    assertEquals(1, vms.getVmsCount());
    assertEquals(FRAMES - FRAMES / 2, vms.getMachine().getFreeFrames(), "a's frames are free again");
    bRequests.onCompleted();
  }
}
