package org.balloonlab.guest.grpc;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import org.balloonlab.proto.AccessAttached;
import org.balloonlab.proto.AccessBatch;
import org.balloonlab.proto.AccessBatchResult;
import org.balloonlab.proto.AccessOp;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
import org.balloonlab.proto.CostModel;
import org.balloonlab.proto.LabClockTerms;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.PowerOffRequest;
import org.balloonlab.proto.PowerOffResponse;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.QuantumDone;
import org.balloonlab.proto.QuantumGrant;
import org.balloonlab.proto.VmState;

/**
 * A hypervisor that keeps the lab clock for one VM, in memory: it grants {@code quanta} quanta (ringing the doorbell
 * on those named), then holds the clock, and it checks what the guest sends against docs/lab-clock.md: no batch
 * outside a granted quantum (until the guest leaves), each {@code QuantumDone} for the quantum granted and at or past
 * its end unless leaving. Pages hold the values written; the first touch of a PFN costs {@link #FIRST_TOUCH_NS}.
 */
public final class FakeLockstepMachine extends MachineServiceGrpc.MachineServiceImplBase {
  static final int VM_ID = 7;
  static final String CREDENTIAL = "lab-clock-test";
  static final long FIRST_TOUCH_NS = 2_500;

  private final long startNs;
  private final long quantumNs;
  private final int quanta;
  private final Set<Long> doorbells;
  private final long[] pages = new long[1 << 16];
  private final BitSet touched = new BitSet();
  private StreamObserver<AccessResponse> stream;
  private long granted;
  private boolean open;
  private boolean left;
  private final List<QuantumDone> dones = new ArrayList<>();
  private final List<String> violations = new ArrayList<>();
  private long batchesAfterLeaving;
  private boolean poweredOff;
  private long loseAfter = Long.MAX_VALUE;

  public FakeLockstepMachine(long startNs, long quantumNs, int quanta, Long... doorbellQuanta) {
    this.startNs = startNs;
    this.quantumNs = quantumNs;
    this.quanta = quanta;
    this.doorbells = Set.of(doorbellQuanta);
  }

  @Override
  public void powerOn(PowerOnRequest request, StreamObserver<PowerOnResponse> response) {
    response.onNext(PowerOnResponse.newBuilder()
        .setVmId(VM_ID)
        .setCredential(CREDENTIAL)
        .setMaxBatchAccesses(1_024)
        .setCostModel(CostModel.newBuilder().setMemoryAccessNs(10).setGuestPageFaultNs(1_000)
            .setGuestSwapReadNs(20_000).setGuestSwapWriteNs(20_000))
        .setLabClock(LabClockTerms.newBuilder().setLockstep(true).setQuantumNs(quantumNs))
        .build());
    response.onCompleted();
  }

  @Override
  public void powerOff(PowerOffRequest request, StreamObserver<PowerOffResponse> response) {
    synchronized (this) {
      poweredOff = true;
    }
    response.onNext(PowerOffResponse.newBuilder().setFinalState(VmState.newBuilder().setVmId(VM_ID)).build());
    response.onCompleted();
  }

  @Override
  public StreamObserver<AccessRequest> access(StreamObserver<AccessResponse> response) {
    return new StreamObserver<>() {
      @Override
      public void onNext(AccessRequest request) {
        synchronized (FakeLockstepMachine.this) {
          switch (request.getKindCase()) {
            case ATTACH -> attach(response, request.getAttach().getVmId(), request.getAttach().getCredential());
            case BATCH -> batch(request.getBatch());
            case QUANTUM_DONE -> quantumDone(request.getQuantumDone());
            default -> violations.add("an empty request");
          }
        }
      }

      @Override
      public void onError(Throwable t) {
      }

      @Override
      public void onCompleted() {
        response.onCompleted();
      }
    };
  }

  private void attach(StreamObserver<AccessResponse> response, int vmId, String credential) {
    if (vmId != VM_ID || !CREDENTIAL.equals(credential)) {
      response.onError(Status.PERMISSION_DENIED.asRuntimeException());
      return;
    }
    stream = response;
    if (loseAfter == 0) {
      response.onError(Status.UNAVAILABLE.withDescription("connection lost in the test").asRuntimeException());
      return;
    }
    response.onNext(AccessResponse.newBuilder().setAttached(AccessAttached.newBuilder().setVmId(vmId)).build());
    grantNext();
  }

  private void grantNext() {
    long q = ++granted;
    open = true;
    stream.onNext(AccessResponse.newBuilder().setGrant(QuantumGrant.newBuilder()
        .setQuantum(q)
        .setStartNs(startNs + (q - 1) * quantumNs)
        .setEndNs(endOf(q))
        .setDoorbell(doorbells.contains(q))).build());
  }

  public long endOf(long quantum) {
    return startNs + quantum * quantumNs;
  }

  private void batch(AccessBatch b) {
    if (left) {
      batchesAfterLeaving++;
    } else if (!open) {
      violations.add("batch " + b.getSequence() + " sent outside a quantum (after " + granted + ")");
    }
    ByteBuffer pfns = b.getPfns().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer writes = b.getWriteValues().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer reads = ByteBuffer.allocate(8 * b.getOps().size()).order(ByteOrder.LITTLE_ENDIAN);
    long charged = 0;
    for (int i = 0; i < b.getOps().size(); i++) {
      int op = b.getOps().byteAt(i);
      int pfn = pfns.getInt(4 * i);
      boolean access = op == AccessOp.ACCESS_OP_READ_VALUE || op == AccessOp.ACCESS_OP_WRITE_VALUE
          || op == AccessOp.ACCESS_OP_SWAP_OUT_READ_VALUE;
      if (access && !touched.get(pfn)) {
        touched.set(pfn);
        charged += FIRST_TOUCH_NS;
      }
      if (op == AccessOp.ACCESS_OP_WRITE_VALUE) {
        pages[pfn] = writes.getLong();
      } else if (op == AccessOp.ACCESS_OP_READ_VALUE || op == AccessOp.ACCESS_OP_SWAP_OUT_READ_VALUE) {
        reads.putLong(pages[pfn]);
      }
    }
    reads.flip();
    stream.onNext(AccessResponse.newBuilder().setResult(AccessBatchResult.newBuilder()
        .setSequence(b.getSequence())
        .setReadValues(ByteString.copyFrom(reads))
        .setHypervisorNs(charged)).build());
  }

  private void quantumDone(QuantumDone d) {
    dones.add(d);
    if (d.getQuantum() != granted) {
      violations.add("QuantumDone for " + d.getQuantum() + " when " + granted + " was granted");
    }
    if (d.getLeaving()) {
      left = true;
      open = false;
      notifyAll();
      return;
    }
    if (!open) {
      violations.add("a second QuantumDone for " + d.getQuantum());
    }
    if (d.getVmTimeNs() < endOf(d.getQuantum())) {
      violations.add("quantum " + d.getQuantum() + " ended at " + d.getVmTimeNs() + ", before its end");
    }
    open = false;
    if (granted >= loseAfter) {
      // What gRPC tells a client whose connection was reset or given up by its keepalive.
      stream.onError(Status.UNAVAILABLE.withDescription("connection lost in the test").asRuntimeException());
    } else if (granted < quanta) {
      grantNext();
    }
    notifyAll();
  }

  /**
   * Ends the access stream as a lost connection would once the guest has ended quantum {@code quantum} (0: when it
   * attaches).
   */
  public synchronized void loseConnectionAfter(long quantum) {
    loseAfter = quantum;
  }

  /** Powers the VM off under its guest, as an operator's PowerOffVm does. */
  public synchronized void powerOffUnder() {
    stream.onError(Status.FAILED_PRECONDITION.withDescription("powered off by the operator").asRuntimeException());
  }

  public synchronized List<QuantumDone> dones() {
    return List.copyOf(dones);
  }

  public synchronized List<String> violations() {
    return List.copyOf(violations);
  }

  public synchronized boolean left() {
    return left;
  }

  public synchronized long batchesAfterLeaving() {
    return batchesAfterLeaving;
  }

  public synchronized boolean poweredOff() {
    return poweredOff;
  }
}
