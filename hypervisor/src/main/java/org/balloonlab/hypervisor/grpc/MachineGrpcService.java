package org.balloonlab.hypervisor.grpc;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.hypervisor.clock.ClockMember;
import org.balloonlab.hypervisor.clock.LabClock;
import org.balloonlab.hypervisor.machine.BatchResult;
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
import org.balloonlab.proto.QuantumDone;
import org.balloonlab.proto.QuantumGrant;
import org.balloonlab.proto.VmSpec;

/**
 * The machine's VM lifecycle and data plane on the wire; every call delegates to {@link Machine}. Under the lab
 * clock, power-ons and power-offs land at a boundary, a VM's batches and its end of each quantum are applied in
 * its turn, and its quanta are granted on its access stream ({@code docs/lab-clock.md}).
 */
final class MachineGrpcService extends MachineServiceGrpc.MachineServiceImplBase {
  private final Machine machine;
  private final LabClockEdge clock;
  /** The streams attached to a VM, by VM id, so a VM released under its guest can be told at once. */
  private final Map<Integer, AccessStream> attached = new ConcurrentHashMap<>();

  MachineGrpcService(Machine machine, LabClockEdge clock) {
    this.machine = machine;
    this.clock = clock;
  }

  /** Answers a new VM's id, credential, batch limit and the cost model; a retry (same request id) the same VM. */
  @Override
  public void powerOn(PowerOnRequest request, StreamObserver<PowerOnResponse> responses) {
    if (!request.hasSpec()) {
      responses.onError(StatusMapping.invalid("PowerOn needs a VM spec"));
      return;
    }
    VmSpec spec = request.getSpec();
    clock.command(() -> StatusMapping.answer(responses, () -> {
      Vm vm = machine.powerOn(spec.getName(), spec.getOsKind(), spec.getMemoryPages(), spec.getMinPages(),
          spec.getShares(), ProtoMapping.fromProto(spec.getTranslationMode()), request.getRequestId());
      return PowerOnResponse.newBuilder()
          .setVmId(vm.id())
          .setCredential(vm.credential())
          .setMaxBatchAccesses(machine.config().maxBatchAccesses())
          .setCostModel(ProtoMapping.toProto(machine.costs()))
          .setLabClock(clock.terms())
          .build();
    }), false);
  }

  /** Answers the VM's last state after releasing all it held. */
  @Override
  public void powerOff(PowerOffRequest request, StreamObserver<PowerOffResponse> responses) {
    clock.command(() -> StatusMapping.answer(responses, () -> PowerOffResponse.newBuilder()
        .setFinalState(ProtoMapping.toProto(machine.powerOff(request.getVmId(), request.getCredential())))
        .build()), false);
  }

  /** Answers each batch with the values of its reads, in order. */
  @Override
  public StreamObserver<AccessRequest> access(StreamObserver<AccessResponse> responses) {
    return new AccessStream(responses);
  }

  /**
   * One VM's access stream. gRPC delivers its messages one at a time; under the lab clock a batch is applied later,
   * in the VM's turn, on the clock's thread, so whatever touches the stream's state (the scratch arrays, the
   * responses, closing) holds this object's monitor, which is uncontended on the data path. The client bounds the
   * batches in flight, which bounds what this side queues for sending.
   */
  /**
   * Ends the access stream of VM {@code vmId}, which was just released (powered off by the operator, dropped as a
   * straggler, its swap failed), with the status its next request would get: a guest waiting for its next grant
   * on the lab clock, or idle, learns now instead of never. Runs on {@code executor}, since the release holds the
   * machine's lock and a stream takes its own monitor before the machine's.
   */
  void released(int vmId, Executor executor) {
    AccessStream stream = attached.remove(vmId);
    if (stream != null) {
      try {
        executor.execute(stream::endReleased);
      } catch (java.util.concurrent.RejectedExecutionException stopping) {
        // The server is stopping: it cancels every stream itself.
      }
    }
  }

  private final class AccessStream implements StreamObserver<AccessRequest>, ClockMember {
    private final StreamObserver<AccessResponse> responses;
    private final int maxBatch = machine.config().maxBatchAccesses();
    private final BatchResult result = new BatchResult();
    private byte[] ops = new byte[0];
    private int[] pfns = new int[0];
    private long[] writeValues = new long[0];
    private long[] readValues = new long[0];
    private char[] asids = new char[0];
    private int[] vpns = new int[0];
    private volatile Vm vm;
    private boolean closed;

    AccessStream(StreamObserver<AccessResponse> responses) {
      this.responses = responses;
    }

    @Override
    public void onNext(AccessRequest request) {
      try {
        switch (request.getKindCase()) {
          case ATTACH -> guarded(() -> attach(request.getAttach()));
          case BATCH -> {
            Vm v = attached();
            clock.forVm(v.id(), responses, () -> guarded(() -> batch(request.getBatch())));
          }
          case QUANTUM_DONE -> quantumDone(attached(), request.getQuantumDone());
          default -> throw StatusMapping.invalid("an access request must carry an attach, a batch or the end of a "
              + "quantum");
        }
      } catch (StatusRuntimeException e) {
        fail(e);
      }
    }

    /**
     * Runs {@code work} on this stream unless it is closed; a refusal ends the stream with its status. Anything
     * else thrown (a bug, an {@link Error}) powers the attached VM off with its memory returned and ends the
     * stream with INTERNAL: it must not reach the lab clock, which would stop for everyone, nor leave the VM
     * attached and unanswered for ever.
     */
    private synchronized void guarded(Runnable work) {
      if (closed) {
        return;
      }
      try {
        work.run();
      } catch (MachineException e) {
        fail(StatusMapping.toStatus(e));
      } catch (StatusRuntimeException e) {
        fail(e);
      } catch (RuntimeException | Error e) {
        Vm v = vm;
        fail(v == null
            ? Status.INTERNAL.withDescription("handling an access stream failed inside the hypervisor ("
                + e.getClass().getSimpleName() + ")").asRuntimeException()
            : StatusMapping.toStatus(machine.powerOffAfterFailure(v, "handling its access stream", e)));
      }
    }

    private Vm attached() {
      Vm v = vm;
      if (v == null) {
        throw Status.FAILED_PRECONDITION.withDescription("attach the stream to a VM before sending accesses")
            .asRuntimeException();
      }
      return v;
    }

    private void attach(AccessAttach attach) {
      if (vm != null) {
        throw Status.FAILED_PRECONDITION.withDescription("this stream is already attached to " + vm)
            .asRuntimeException();
      }
      Vm candidate = machine.authenticate(attach.getVmId(), attach.getCredential());
      machine.attach(candidate);
      vm = candidate;
      attached.put(candidate.id(), this);
      if (clock.lockstep()) {
        // Joined before the guest hears it is attached, so whatever it does next finds it on the clock; its first
        // grant cannot overtake the answer, since both are sent under this stream's monitor, which we hold.
        clock.clock().join(candidate.id(), this);
      }
      responses.onNext(AccessResponse.newBuilder()
          .setAttached(AccessAttached.newBuilder().setVmId(candidate.id()))
          .build());
    }

    /** The VM ended its part of a quantum: its report, if any, is recorded in its turn, as a batch's would be. */
    private void quantumDone(Vm v, QuantumDone done) {
      if (done.getVmTimeNs() < 0) {
        throw StatusMapping.invalid("a VM's time cannot be negative, got " + done.getVmTimeNs() + " ns");
      }
      GuestStatus report = done.hasGuestReport() ? ProtoMapping.fromProto(done.getGuestReport()) : null;
      Runnable record = () -> guarded(() -> {
        if (report != null) {
          machine.recordGuestView(v, report);
        }
      });
      if (clock.lockstep()) {
        clock.clock().done(v.id(), done.getQuantum(), done.getVmTimeNs(), done.getLeaving(), record);
      } else {
        record.run();
      }
    }

    @Override
    public synchronized void grant(long quantum, long startNs, long endNs, boolean doorbell) {
      if (closed) {
        return;
      }
      responses.onNext(AccessResponse.newBuilder().setGrant(QuantumGrant.newBuilder()
          .setQuantum(quantum).setStartNs(startNs).setEndNs(endNs).setDoorbell(doorbell)).build());
    }

    @Override
    public String toString() {
      Vm v = vm;
      return v == null ? "an unattached access stream" : v.toString();
    }

    @Override
    public void drop(String why) {
      Vm v = vm;
      if (v != null) {
        machine.releaseStraggler(v, why);
      }
      fail(Status.ABORTED.withDescription(why).asRuntimeException());
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
      GuestStatus report = batch.hasGuestReport() ? ProtoMapping.fromProto(batch.getGuestReport()) : null;
      machine.applyBatch(vm, !batch.getNotWorkload(), count, ops, pfns, batchAsids, batchVpns, writeValues,
          readValues, result);
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

    private synchronized void fail(StatusRuntimeException status) {
      if (closed) {
        return;
      }
      closed = true;
      Vm v = vm;
      if (v != null) {
        attached.remove(v.id(), this);
        leaveClock(v, "VM " + v.name() + "'s access stream was refused");
        machine.detach(v);
      }
      responses.onError(status);
    }

    @Override
    public synchronized void onError(Throwable t) {
      Vm v = vm;
      if (!closed && v != null) {
        attached.remove(v.id(), this);
        if (clock.lockstep()) {
          leaveClock(v, "VM " + v.name() + "'s access stream broke");
          clock.command(() -> machine.connectionLost(v), false);
        } else {
          machine.connectionLost(v);
        }
      }
      closed = true;
    }

    @Override
    public synchronized void onCompleted() {
      if (closed) {
        return;
      }
      closed = true;
      Vm v = vm;
      if (v != null) {
        attached.remove(v.id(), this);
        leaveClock(v, "VM " + v.name() + " closed its access stream");
        machine.detach(v);
      }
      responses.onCompleted();
    }

    /** The VM is gone: the guest gets the status any request of its would get now. */
    private synchronized void endReleased() {
      Vm v = vm;
      if (closed || v == null) {
        return;
      }
      closed = true;
      try {
        v.requirePoweredOn();
        responses.onError(Status.ABORTED.withDescription(v + " was released").asRuntimeException());
      } catch (MachineException e) {
        responses.onError(StatusMapping.toStatus(e));
      }
    }

    private void leaveClock(Vm v, String why) {
      if (clock.lockstep()) {
        clock.clock().leave(v.id(), why + " at lab time " + clock.clock().labTimeNs() + " ns while the clock ran");
      }
    }
  }
}
