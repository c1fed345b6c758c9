package org.balloonlab.hypervisor.grpc;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.balloonlab.hypervisor.machine.BatchResult;
import org.balloonlab.hypervisor.machine.GuestView;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineException;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.proto.AccessAttach;
import org.balloonlab.proto.AccessAttached;
import org.balloonlab.proto.AccessBatch;
import org.balloonlab.proto.AccessBatchResult;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.PowerOffRequest;
import org.balloonlab.proto.PowerOffResponse;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.VmSpec;

/** The machine's VM lifecycle and data plane on the wire; every call delegates to {@link Machine}. */
final class MachineGrpcService extends MachineServiceGrpc.MachineServiceImplBase {
  private final Machine machine;

  MachineGrpcService(Machine machine) {
    this.machine = machine;
  }

  /** Answers a new VM's id, credential, batch limit and the cost model. */
  @Override
  public void powerOn(PowerOnRequest request, StreamObserver<PowerOnResponse> responses) {
    if (!request.hasSpec()) {
      responses.onError(StatusMapping.invalid("PowerOn needs a VM spec"));
      return;
    }
    VmSpec spec = request.getSpec();
    StatusMapping.answer(responses, () -> {
      Vm vm = machine.powerOn(spec.getName(), spec.getOsKind(), spec.getMemoryPages(), spec.getMinPages(),
          spec.getShares(), ProtoMapping.fromProto(spec.getTranslationMode()));
      return PowerOnResponse.newBuilder()
          .setVmId(vm.id())
          .setCredential(vm.credential())
          .setMaxBatchAccesses(machine.config().maxBatchAccesses())
          .setCostModel(ProtoMapping.toProto(machine.costs()))
          .build();
    });
  }

  /** Answers the VM's last state after releasing all it held. */
  @Override
  public void powerOff(PowerOffRequest request, StreamObserver<PowerOffResponse> responses) {
    StatusMapping.answer(responses, () -> PowerOffResponse.newBuilder()
        .setFinalState(ProtoMapping.toProto(machine.powerOff(request.getVmId(), request.getCredential())))
        .build());
  }

  /** Answers each batch with the values of its reads, in order. */
  @Override
  public StreamObserver<AccessRequest> access(StreamObserver<AccessResponse> responses) {
    return new AccessStream(responses);
  }

  /**
   * One VM's access stream. gRPC delivers its messages one at a time, so the scratch arrays are reused without
   * locking; the client bounds the batches in flight, which bounds what this side queues for sending.
   */
  private final class AccessStream implements StreamObserver<AccessRequest> {
    private final StreamObserver<AccessResponse> responses;
    private final int maxBatch = machine.config().maxBatchAccesses();
    private final BatchResult result = new BatchResult();
    private byte[] ops = new byte[0];
    private int[] pfns = new int[0];
    private long[] writeValues = new long[0];
    private long[] readValues = new long[0];
    private char[] asids = new char[0];
    private int[] vpns = new int[0];
    private Vm vm;
    private boolean closed;

    AccessStream(StreamObserver<AccessResponse> responses) {
      this.responses = responses;
    }

    @Override
    public void onNext(AccessRequest request) {
      if (closed) {
        return;
      }
      try {
        switch (request.getKindCase()) {
          case ATTACH -> attach(request.getAttach());
          case BATCH -> batch(request.getBatch());
          default -> throw StatusMapping.invalid("an access request must carry an attach or a batch");
        }
      } catch (MachineException e) {
        fail(StatusMapping.toStatus(e));
      } catch (StatusRuntimeException e) {
        fail(e);
      }
    }

    private void attach(AccessAttach attach) {
      if (vm != null) {
        throw Status.FAILED_PRECONDITION.withDescription("this stream is already attached to " + vm)
            .asRuntimeException();
      }
      Vm candidate = machine.authenticate(attach.getVmId(), attach.getCredential());
      machine.attach(candidate);
      vm = candidate;
      responses.onNext(AccessResponse.newBuilder()
          .setAttached(AccessAttached.newBuilder().setVmId(candidate.id()))
          .build());
    }

    private void batch(AccessBatch batch) {
      if (vm == null) {
        throw Status.FAILED_PRECONDITION.withDescription("attach the stream to a VM before sending accesses")
            .asRuntimeException();
      }
      int count = batch.getOps().size();
      if (count > maxBatch) {
        throw StatusMapping.invalid("a batch holds at most " + maxBatch + " accesses, got " + count);
      }
      int pfnBytes = batch.getPfns().size();
      if (pfnBytes % Integer.BYTES != 0) {
        throw StatusMapping.invalid("PFNs are 4 bytes each, got " + pfnBytes + " bytes");
      }
      if (pfnBytes / Integer.BYTES != count) {
        throw StatusMapping.invalid("a batch needs one PFN per operation, got " + count + " operations and "
            + pfnBytes / Integer.BYTES + " PFNs");
      }
      int writeBytes = batch.getWriteValues().size();
      if (writeBytes % Long.BYTES != 0) {
        throw StatusMapping.invalid("write values are 8 bytes each, got " + writeBytes + " bytes");
      }
      if (writeBytes / Long.BYTES > count) {
        throw StatusMapping.invalid("a batch of " + count + " accesses cannot carry " + writeBytes / Long.BYTES
            + " write values");
      }
      int writes = writeBytes / Long.BYTES;
      int asidBytes = batch.getAsids().size();
      int vpnBytes = batch.getVpns().size();
      boolean translated = asidBytes != 0 || vpnBytes != 0;
      if (translated && (asidBytes != count * 2 || vpnBytes != count * Integer.BYTES)) {
        throw StatusMapping.invalid("a batch of " + count + " entries carries one 2-byte address space and one "
            + "4-byte VPN per entry (or none at all), got " + asidBytes + " bytes of address spaces and " + vpnBytes
            + " bytes of VPNs");
      }
      ensureCapacity(count);
      // Bulk copies: the arrays are packed little-endian on the wire.
      batch.getOps().copyTo(ops, 0);
      batch.getPfns().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(pfns, 0, count);
      batch.getWriteValues().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer()
          .get(writeValues, 0, writes);
      if (translated) {
        batch.getAsids().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asCharBuffer().get(asids, 0, count);
        batch.getVpns().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(vpns, 0, count);
      }
      char[] batchAsids = translated ? asids : null;
      int[] batchVpns = translated ? vpns : null;
      machine.validateBatch(vm, count, ops, pfns, batchAsids, batchVpns, writes);
      GuestView report = batch.hasGuestReport() ? ProtoMapping.fromProto(batch.getGuestReport()) : null;
      machine.applyBatch(vm, count, ops, pfns, batchAsids, batchVpns, writeValues, readValues, result);
      if (report != null) {
        // Only once the batch is applied: a refused batch changes nothing, its report included.
        machine.recordGuestView(vm, report);
      }
      byte[] reads = new byte[result.reads() * Long.BYTES];
      ByteBuffer.wrap(reads).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(readValues, 0, result.reads());
      AccessBatchResult.Builder out = AccessBatchResult.newBuilder()
          .setSequence(batch.getSequence())
          .setHypervisorNs(result.hypervisorNs())
          .setHiddenFaults(result.hiddenFaults())
          // The array is new and never touched again, so the message may own it without a copy.
          .setReadValues(UnsafeByteOperations.unsafeWrap(reads));
      responses.onNext(AccessResponse.newBuilder().setResult(out).build());
    }

    private void ensureCapacity(int count) {
      if (ops.length < count) {
        int size = Math.min(maxBatch, Math.max(count, ops.length * 2));
        ops = new byte[size];
        pfns = new int[size];
        writeValues = new long[size];
        readValues = new long[size];
        asids = new char[size];
        vpns = new int[size];
      }
    }

    private void fail(StatusRuntimeException status) {
      closed = true;
      if (vm != null) {
        machine.detach(vm);
      }
      responses.onError(status);
    }

    @Override
    public void onError(Throwable t) {
      if (!closed && vm != null) {
        machine.connectionLost(vm);
      }
      closed = true;
    }

    @Override
    public void onCompleted() {
      if (closed) {
        return;
      }
      closed = true;
      if (vm != null) {
        machine.detach(vm);
      }
      responses.onCompleted();
    }
  }
}
