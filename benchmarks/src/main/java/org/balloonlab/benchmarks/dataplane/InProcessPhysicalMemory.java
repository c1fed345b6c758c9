package org.balloonlab.benchmarks.dataplane;

import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.os.PageTableEvent;
import org.balloonlab.guest.os.PhysicalMemory;
import org.balloonlab.hypervisor.machine.AccessOps;
import org.balloonlab.hypervisor.machine.BatchResult;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.Vm;

/**
 * Guest-physical memory backed by a {@link Machine} in the same JVM: the data plane with the transport taken out.
 *
 * <p>It batches exactly as {@code RemotePhysicalMemory} does (the same batch size; a partial batch goes out when
 * values are needed now, the victims of a guest page-out, with a status report, and on flush) and hands each batch to
 * {@link Machine#validateBatch} and {@link Machine#applyBatch}, the two calls the gRPC service makes for every
 * batch it receives. Reads are checked against the expected tokens the same way, so the benchmark's in-process
 * figure differs from the gRPC one only by what the wire costs: building and parsing protobuf messages, the
 * socket, the threads on both sides. Batches are applied synchronously on the vCPU thread, so there is no
 * window: nothing is in flight.
 *
 * <p>The buffers are allocated once and reused, so the steady state allocates nothing, as on the hypervisor's
 * side of the stream. Not thread-safe: the vCPU thread owns it.
 */
final class InProcessPhysicalMemory implements PhysicalMemory {
  private final Machine machine;
  private final Vm vm;
  private final int batchSize;
  private final ReadChecker checker;
  private final BatchResult result = new BatchResult();
  private final byte[] ops;
  private final int[] pfns;
  private final char[] asids;
  private final int[] vpns;
  private final long[] writeValues;
  private final long[] readValues;
  private final int[] readPfns;
  private final long[] expected;
  private int count;
  private int writeCount;
  private int readCount;
  private long hypervisorNs;
  private long batches;

  /**
   * @param machine the machine that backs the memory
   * @param vm a powered-on VM of that machine
   * @param batchSize accesses per batch (at most the machine's batch limit)
   * @param checker told of every read that did not return what was expected
   */
  InProcessPhysicalMemory(Machine machine, Vm vm, int batchSize, ReadChecker checker) {
    if (batchSize <= 0 || batchSize > machine.config().maxBatchAccesses()) {
      throw new IllegalArgumentException("batch size must be 1 to " + machine.config().maxBatchAccesses()
          + ", got " + batchSize);
    }
    this.machine = machine;
    this.vm = vm;
    this.batchSize = batchSize;
    this.checker = checker;
    ops = new byte[batchSize];
    pfns = new int[batchSize];
    asids = new char[batchSize];
    vpns = new int[batchSize];
    writeValues = new long[batchSize];
    readValues = new long[batchSize];
    readPfns = new int[batchSize];
    expected = new long[batchSize];
  }

  @Override
  public void write(int pfn, long token) {
    write(KERNEL_ASID, pfn, pfn, token);
  }

  @Override
  public void write(int asid, int vpn, int pfn, long token) {
    int i = count++;
    ops[i] = AccessOps.WRITE;
    pfns[i] = pfn;
    asids[i] = (char) asid;
    vpns[i] = vpn;
    writeValues[writeCount++] = token;
    if (count == batchSize) {
      apply();
    }
  }

  @Override
  public void read(int pfn, long expectedToken) {
    read(KERNEL_ASID, pfn, pfn, expectedToken);
  }

  @Override
  public void read(int asid, int vpn, int pfn, long expectedToken) {
    queueRead(AccessOps.READ, asid, vpn, pfn, expectedToken);
    if (count == batchSize) {
      apply();
    }
  }

  @Override
  public void pageTableEvent(PageTableEvent event, int asid, int vpn, int pfn) {
    int i = count++;
    ops[i] = switch (event) {
      case MAP -> AccessOps.PT_MAP;
      case UNMAP -> AccessOps.PT_UNMAP;
      case REMAP -> AccessOps.PT_REMAP;
      case SWITCH -> AccessOps.AS_SWITCH;
      case FAULT -> AccessOps.GUEST_PAGE_FAULT;
      case RELEASE -> AccessOps.AS_RELEASE;
    };
    pfns[i] = pfn;
    asids[i] = (char) asid;
    vpns[i] = vpn;
    if (count == batchSize) {
      apply();
    }
  }

  @Override
  public void readForSwapOut(int[] victims, long[] expectedTokens, int n, long[] values) {
    // As the remote memory does: the victims go out together, after what is queued, in as few batches as fit.
    for (int done = 0; done < n; ) {
      if (batchSize - count < Math.min(n - done, batchSize)) {
        apply();
      }
      int chunk = Math.min(n - done, batchSize - count);
      int firstRead = readCount;
      for (int k = 0; k < chunk; k++) {
        queueRead(AccessOps.SWAP_OUT_READ, KERNEL_ASID, victims[done + k], victims[done + k],
            expectedTokens[done + k]);
      }
      apply();
      System.arraycopy(readValues, firstRead, values, done, chunk);
      done += chunk;
    }
  }

  private void queueRead(byte op, int asid, int vpn, int pfn, long expectedToken) {
    int i = count++;
    ops[i] = op;
    pfns[i] = pfn;
    asids[i] = (char) asid;
    vpns[i] = vpn;
    int r = readCount++;
    readPfns[r] = pfn;
    expected[r] = expectedToken;
  }

  @Override
  public void flush() {
    if (count > 0) {
      apply();
    }
  }

  @Override
  public void report(GuestStatus s) {
    // The remote memory sends the queued accesses with the report; do the same so batches match.
    flush();
    machine.recordGuestView(vm, new GuestStatus(s.simulatedNs(), s.accesses(), s.trueFaults(), s.majorFaults(),
        s.minorFaults(), s.pageOuts(), s.pageIns(), s.integrityViolations(), s.isolationViolations(),
        s.freePages(), s.totalPages(), s.swapUsedPages(), s.contextSwitches(), s.workload(), s.workloadDone()));
  }

  @Override
  public long hypervisorNs() {
    return hypervisorNs;
  }

  /** Batches applied so far. */
  long batches() {
    return batches;
  }

  private void apply() {
    machine.validateBatch(vm, count, ops, pfns, asids, vpns, writeCount);
    machine.applyBatch(vm, count, ops, pfns, asids, vpns, writeValues, readValues, result);
    if (result.reads() != readCount) {
      throw new IllegalStateException("a batch of " + readCount + " reads was answered with " + result.reads()
          + " values");
    }
    for (int r = 0; r < readCount; r++) {
      if (readValues[r] != expected[r]) {
        checker.mismatch(readPfns[r], expected[r], readValues[r]);
      }
    }
    hypervisorNs += result.hypervisorNs();
    batches++;
    count = 0;
    writeCount = 0;
    readCount = 0;
  }

  @Override
  public void close() {
    flush();
  }
}
