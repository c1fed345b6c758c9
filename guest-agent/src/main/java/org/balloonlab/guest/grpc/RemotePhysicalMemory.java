package org.balloonlab.guest.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.os.PageTableEvent;
import org.balloonlab.guest.os.PhysicalMemory;
import org.balloonlab.guest.vcpu.LabClockLink;
import org.balloonlab.proto.AccessAttach;
import org.balloonlab.proto.AccessBatch;
import org.balloonlab.proto.AccessBatchResult;
import org.balloonlab.proto.AccessOp;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
import org.balloonlab.proto.GuestReport;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.QuantumDone;

/**
 * Guest-physical memory backed by the hypervisor over the VM's access stream.
 *
 * <p>Accesses are queued into a batch and sent when it is full (or when a value is needed now, or on flush).
 * Up to {@code window} batches are in flight; a ring of that many batch buffers is reused, so the steady state
 * allocates only the protobuf messages. Answers arrive in order on gRPC's thread, which checks each read against
 * the value the guest expected and frees the buffer. The vCPU blocks only when the window is full, when it needs
 * a value ({@link #readForSwapOut}) and on {@link #flush()}. The window is what keeps both sides' buffering
 * bounded, so the stream needs no other flow control.
 *
 * <p>Every entry carries its address space and VPN (a kernel access: {@link #KERNEL_ASID} and its PFN), and
 * page-table events take a slot of the batch like an access, so the hypervisor sees them in exactly the order the
 * guest made them.
 *
 * <p>Under a lockstep hypervisor the stream carries the lab clock too ({@link #labClock()}): grants arrive among the
 * answers and {@code QuantumDone}s go out among the batches.
 *
 * <p>The waits here are on the network and keep wall-clock deadlines or poll intervals; none of them is charged
 * to the guest's simulated time. A wait for answers or grants has no deadline of its own (under the lab clock the
 * hypervisor may hold a VM's batches for another VM's turn, or hold the clock, as long as it likes): it is bounded
 * by the channel's keepalive, which fails the stream with {@code UNAVAILABLE} when the hypervisor goes silent.
 */
public final class RemotePhysicalMemory implements PhysicalMemory {
  private static final long ATTACH_TIMEOUT_SECONDS = 10;

  /** One batch buffer of the ring. */
  private static final class Batch {
    final byte[] ops;
    final int[] pfns;
    final char[] asids;
    final int[] vpns;
    final long[] writes;
    final int[] readPfns;
    final long[] expected;
    int count;
    int writeCount;
    int readCount;
    long sequence;
    int waitReadStart = -1;
    int waitReadCount;
    final long[] waitValues;
    GuestReport report;
    /** Whether the batch holds only the kernel's own accesses (see {@link PhysicalMemory#kernelOnly}). */
    boolean notWorkload;

    Batch(int size) {
      ops = new byte[size];
      pfns = new int[size];
      asids = new char[size];
      vpns = new int[size];
      writes = new long[size];
      readPfns = new int[size];
      expected = new long[size];
      waitValues = new long[size];
    }

    /**
     * Appends one entry; the caller sends the batch when it is full. Small enough to be inlined on the data
     * path, where every access of the guest lands.
     */
    void add(int op, int asid, int vpn, int pfn) {
      int i = count++;
      ops[i] = (byte) op;
      pfns[i] = pfn;
      asids[i] = (char) asid;
      vpns[i] = vpn;
    }

    /** Remembers what the last entry, a read, must return. */
    void expect(int pfn, long value) {
      int r = readCount++;
      readPfns[r] = pfn;
      expected[r] = value;
    }

    void reset() {
      count = 0;
      writeCount = 0;
      readCount = 0;
      waitReadStart = -1;
      waitReadCount = 0;
      report = null;
      notWorkload = false;
    }
  }

  private final ReadChecker checker;
  private final Batch[] ring;
  private final int batchSize;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition progress = lock.newCondition();
  private final AtomicLong hypervisorNs = new AtomicLong();
  private final CountDownLatch attached = new CountDownLatch(1);
  private final CountDownLatch closedByServer = new CountDownLatch(1);
  private final GrpcLabClock labClock = new GrpcLabClock(this);
  /** Whether new batches hold the kernel's own accesses; only the vCPU thread reads and writes it. */
  private boolean kernelOnly;
  private ClientCallStreamObserver<AccessRequest> requests;
  // Guarded by lock: sequences sent and answered so far.
  private long sent;
  private long answered;
  private volatile Throwable failure;
  /**
   * Wall-clock times (epoch milliseconds) of the hypervisor's last message on the stream and of the stream's
   * failure, for the line that says since when a lost hypervisor was silent; about the network, never the model.
   */
  private volatile long lastHeardMillis = System.currentTimeMillis();
  private volatile long failedAtMillis;
  // Owned by the vCPU thread.
  private Batch current;
  private boolean closed;
  /** {@link #hypervisorNs} when every batch sent had been answered, last time that was waited for. */
  private long drainedHypervisorNs;

  /**
   * Opens the access stream of a powered-on VM and attaches it.
   *
   * @param batchSize accesses per batch (at most the hypervisor's limit)
   * @param window batches in flight at most
   * @throws StatusRuntimeException if the hypervisor refuses the attach or does not answer
   */
  public RemotePhysicalMemory(MachineServiceGrpc.MachineServiceStub stub, int vmId, String credential,
                              int batchSize, int window, ReadChecker checker) {
    if (batchSize <= 0 || window <= 0) {
      throw new IllegalArgumentException("batch size and window must be positive");
    }
    this.checker = checker;
    this.batchSize = batchSize;
    this.ring = new Batch[window];
    for (int i = 0; i < window; i++) {
      ring[i] = new Batch(batchSize);
    }
    stub.access(new ClientResponseObserver<AccessRequest, AccessResponse>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<AccessRequest> stream) {
        requests = stream;
      }

      @Override
      public void onNext(AccessResponse response) {
        lastHeardMillis = System.currentTimeMillis();
        switch (response.getKindCase()) {
          case ATTACHED -> attached.countDown();
          case RESULT -> complete(response.getResult());
          case GRANT -> labClock.granted(response.getGrant());
          default -> fail(Status.INTERNAL.withDescription("the hypervisor sent an empty access response")
              .asRuntimeException());
        }
      }

      @Override
      public void onError(Throwable t) {
        fail(t);
        closedByServer.countDown();
      }

      @Override
      public void onCompleted() {
        closedByServer.countDown();
        if (!closed) {
          fail(Status.UNAVAILABLE.withDescription("the hypervisor closed the access stream").asRuntimeException());
        }
      }
    });
    requests.onNext(AccessRequest.newBuilder()
        .setAttach(AccessAttach.newBuilder().setVmId(vmId).setCredential(credential))
        .build());
    try {
      // A wait on the network, with a wall-clock deadline.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ATTACH_TIMEOUT_SECONDS);
      while (!attached.await(50, TimeUnit.MILLISECONDS)) {
        rethrowFailure();
        if (System.nanoTime() - deadline > 0) {
          requests.cancel("attach timed out", null);
          throw Status.DEADLINE_EXCEEDED.withDescription("the hypervisor did not answer the attach within "
              + ATTACH_TIMEOUT_SECONDS + " s").asRuntimeException();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      requests.cancel("interrupted while attaching", e);
      throw Status.CANCELLED.withDescription("interrupted while attaching").asRuntimeException();
    }
    current = ring[0];
  }

  @Override
  public void write(int asid, int vpn, int pfn, long token) {
    Batch b = current;
    b.add(AccessOp.ACCESS_OP_WRITE_VALUE, asid, vpn, pfn);
    b.writes[b.writeCount++] = token;
    sendIfFull(b);
  }

  @Override
  public void read(int asid, int vpn, int pfn, long expected) {
    Batch b = current;
    b.add(AccessOp.ACCESS_OP_READ_VALUE, asid, vpn, pfn);
    b.expect(pfn, expected);
    sendIfFull(b);
  }

  // The kernel's own accesses go through its direct map.
  @Override
  public void write(int pfn, long token) {
    write(KERNEL_ASID, pfn, pfn, token);
  }

  @Override
  public void read(int pfn, long expected) {
    read(KERNEL_ASID, pfn, pfn, expected);
  }

  @Override
  public void pageTableEvent(PageTableEvent event, int asid, int vpn, int pfn) {
    int op = switch (event) {
      case MAP -> AccessOp.ACCESS_OP_PT_MAP_VALUE;
      case UNMAP -> AccessOp.ACCESS_OP_PT_UNMAP_VALUE;
      case REMAP -> AccessOp.ACCESS_OP_PT_REMAP_VALUE;
      case SWITCH -> AccessOp.ACCESS_OP_AS_SWITCH_VALUE;
      case FAULT -> AccessOp.ACCESS_OP_GUEST_PAGE_FAULT_VALUE;
      case RELEASE -> AccessOp.ACCESS_OP_AS_RELEASE_VALUE;
    };
    Batch b = current;
    b.add(op, asid, vpn, pfn);
    sendIfFull(b);
  }

  private void sendIfFull(Batch b) {
    if (b.count == batchSize) {
      send();
    }
  }

  @Override
  public void readForSwapOut(int[] pfns, long[] expected, int count, long[] values) {
    for (int done = 0; done < count; ) {
      if (batchSize - current.count < Math.min(count - done, batchSize)) {
        send();
      }
      Batch b = current;
      int n = Math.min(count - done, batchSize - b.count);
      b.waitReadStart = b.readCount;
      b.waitReadCount = n;
      for (int k = 0; k < n; k++) {
        int pfn = pfns[done + k];
        b.add(AccessOp.ACCESS_OP_SWAP_OUT_READ_VALUE, KERNEL_ASID, pfn, pfn);
        b.expect(pfn, expected[done + k]);
      }
      long sequence = send();
      awaitAnswered(sequence);
      // The buffer is ours again: only this thread refills it, and it was answered.
      System.arraycopy(b.waitValues, 0, values, done, n);
      done += n;
    }
    // The batch just answered was the last one sent, and answers come in order: every charge is in.
    drainedHypervisorNs = hypervisorNs.get();
  }

  @Override
  public void report(GuestStatus s) {
    current.report = GuestReports.toProto(s);
    send();
  }

  /** The lab clock's grants and answers on this stream, for a VM under a lockstep hypervisor. */
  public LabClockLink labClock() {
    return labClock;
  }

  /** Sends a {@code QuantumDone} once every batch before it is answered, as the protocol requires. */
  void sendQuantumDone(QuantumDone done) {
    flush();
    requests.onNext(AccessRequest.newBuilder().setQuantumDone(done).build());
  }

  @Override
  public void kernelOnly(boolean on) {
    // A batch is one kind or the other: what is queued goes out before the kind changes.
    if (on != current.notWorkload && (current.count > 0 || current.report != null)) {
      send();
    }
    kernelOnly = on;
    current.notWorkload = on;
  }

  @Override
  public void flush() {
    if (current.count > 0 || current.report != null) {
      send();
    }
    long last;
    lock.lock();
    try {
      last = sent;
    } finally {
      lock.unlock();
    }
    awaitAnswered(last);
    drainedHypervisorNs = hypervisorNs.get();
  }

  @Override
  public long hypervisorNs() {
    return hypervisorNs.get();
  }

  @Override
  public long drainedHypervisorNs() {
    return drainedHypervisorNs;
  }

  /** Sends the current batch and moves to the next buffer, waiting for one if the window is full. */
  private long send() {
    rethrowFailure();
    Batch b = current;
    long sequence;
    lock.lock();
    try {
      sequence = ++sent;
    } finally {
      lock.unlock();
    }
    b.sequence = sequence;
    // Packed little-endian arrays, copied in bulk (see machine.proto). The byte arrays are new for each batch,
    // so the message may own them without another copy.
    byte[] pfnBytes = new byte[b.count * Integer.BYTES];
    ByteBuffer.wrap(pfnBytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().put(b.pfns, 0, b.count);
    byte[] writeBytes = new byte[b.writeCount * Long.BYTES];
    ByteBuffer.wrap(writeBytes).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(b.writes, 0, b.writeCount);
    byte[] asidBytes = new byte[b.count * Character.BYTES];
    ByteBuffer.wrap(asidBytes).order(ByteOrder.LITTLE_ENDIAN).asCharBuffer().put(b.asids, 0, b.count);
    byte[] vpnBytes = new byte[b.count * Integer.BYTES];
    ByteBuffer.wrap(vpnBytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().put(b.vpns, 0, b.count);
    AccessBatch.Builder msg = AccessBatch.newBuilder()
        .setSequence(sequence)
        .setOps(ByteString.copyFrom(b.ops, 0, b.count))
        .setPfns(UnsafeByteOperations.unsafeWrap(pfnBytes))
        .setWriteValues(UnsafeByteOperations.unsafeWrap(writeBytes))
        .setAsids(UnsafeByteOperations.unsafeWrap(asidBytes))
        .setVpns(UnsafeByteOperations.unsafeWrap(vpnBytes));
    if (b.report != null) {
      msg.setGuestReport(b.report);
    }
    if (b.notWorkload) {
      msg.setNotWorkload(true);
    }
    requests.onNext(AccessRequest.newBuilder().setBatch(msg).build());
    // The next buffer is free once the batch that used it last, window sequences ago, is answered.
    awaitAnswered(sequence + 1 - ring.length);
    current = ring[(int) (sequence % ring.length)];
    current.reset();
    current.notWorkload = kernelOnly;
    return sequence;
  }

  private void awaitAnswered(long sequence) {
    if (sequence <= 0) {
      return;
    }
    lock.lock();
    try {
      while (answered < sequence) {
        rethrowFailure();
        // A wait on the network; the wall-clock period only bounds how late a failure is noticed.
        progress.await(100, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted while waiting for the hypervisor").asRuntimeException();
    } finally {
      lock.unlock();
    }
  }

  /** Runs on gRPC's thread: checks a batch's reads and frees its buffer. */
  private void complete(AccessBatchResult result) {
    long expectedSequence;
    lock.lock();
    try {
      expectedSequence = answered + 1;
    } finally {
      lock.unlock();
    }
    Batch b = ring[(int) ((expectedSequence - 1) % ring.length)];
    if (result.getSequence() != expectedSequence || b.sequence != expectedSequence) {
      fail(Status.INTERNAL.withDescription("answer for batch " + result.getSequence() + " arrived when batch "
          + expectedSequence + " was due").asRuntimeException());
      return;
    }
    ByteString readBytes = result.getReadValues();
    if (readBytes.size() != b.readCount * Long.BYTES) {
      fail(Status.INTERNAL.withDescription("batch " + expectedSequence + " had " + b.readCount
          + " reads but the answer carries " + readBytes.size() + " bytes of values").asRuntimeException());
      return;
    }
    LongBuffer values = readBytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
    for (int r = 0, reads = b.readCount; r < reads; r++) {
      long actual = values.get(r);
      if (actual != b.expected[r]) {
        checker.mismatch(b.readPfns[r], b.expected[r], actual);
      }
    }
    for (int k = 0; k < b.waitReadCount; k++) {
      b.waitValues[k] = values.get(b.waitReadStart + k);
    }
    hypervisorNs.addAndGet(result.getHypervisorNs());
    lock.lock();
    try {
      answered = expectedSequence;
      progress.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void fail(Throwable t) {
    if (failure == null) {
      failedAtMillis = System.currentTimeMillis();
      failure = t;
    }
    lock.lock();
    try {
      progress.signalAll();
    } finally {
      lock.unlock();
    }
  }

  void rethrowFailure() {
    Throwable t = failure;
    if (t != null) {
      Status s = Status.fromThrowable(t);
      // The trailers go along: they carry the status details (PoweredOff) the caller decides by.
      throw s.withDescription("the access stream failed: " + s.getDescription())
          .asRuntimeException(Status.trailersFromThrowable(t));
    }
  }

  /** When the hypervisor last sent anything on the stream, in epoch milliseconds (wall time). */
  public long lastHeardMillis() {
    return lastHeardMillis;
  }

  /** When the stream failed, in epoch milliseconds (wall time); 0 while it has not. */
  public long failedAtMillis() {
    return failedAtMillis;
  }

  /** The failure that ended the stream, or {@code null}. */
  public Throwable failure() {
    return failure;
  }

  /** Flushes and detaches cleanly; the VM stays powered on until it is powered off. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    try {
      if (failure == null) {
        flush();
      }
    } finally {
      closed = true;
      if (failure != null) {
        // The stream failed on our side or theirs; make sure the call is over so the VM is not left attached.
        requests.cancel("closing after a failure", failure);
      } else {
        requests.onCompleted();
        try {
          // A wait on the network, with a wall-clock bound: the hypervisor ends the call once it has detached.
          closedByServer.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
