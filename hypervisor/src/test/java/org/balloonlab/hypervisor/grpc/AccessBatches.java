package org.balloonlab.hypervisor.grpc;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import org.balloonlab.proto.AccessBatch;
import org.balloonlab.proto.AccessBatchResult;

/** Builds access batches one access at a time for tests; the wire's arrays are packed little-endian bytes. */
final class AccessBatches {
  private AccessBatches() {}

  static AccessBatch.Builder addOp(AccessBatch.Builder b, int op) {
    return b.setOps(b.getOps().concat(ByteString.copyFrom(new byte[] {(byte) op})));
  }

  static AccessBatch.Builder addPfn(AccessBatch.Builder b, int pfn) {
    return b.setPfns(b.getPfns().concat(ByteString.copyFrom(
        ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(pfn).array())));
  }

  static AccessBatch.Builder addWriteValue(AccessBatch.Builder b, long value) {
    return b.setWriteValues(b.getWriteValues().concat(ByteString.copyFrom(
        ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array())));
  }

  static AccessBatch.Builder addAsid(AccessBatch.Builder b, int asid) {
    return b.setAsids(b.getAsids().concat(ByteString.copyFrom(
        ByteBuffer.allocate(Character.BYTES).order(ByteOrder.LITTLE_ENDIAN).putChar((char) asid).array())));
  }

  static AccessBatch.Builder addVpn(AccessBatch.Builder b, int vpn) {
    return b.setVpns(b.getVpns().concat(ByteString.copyFrom(
        ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(vpn).array())));
  }

  /** Adds an entry with its address space and VPN: an access ({@code op} 1-3) or a page-table event. */
  static AccessBatch.Builder entry(AccessBatch.Builder b, int op, int asid, int vpn, int pfn) {
    return addVpn(addAsid(addPfn(addOp(b, op), pfn), asid), vpn);
  }

  static AccessBatch.Builder write(AccessBatch.Builder b, int pfn, long value) {
    return addWriteValue(addPfn(addOp(b, org.balloonlab.proto.AccessOp.ACCESS_OP_WRITE_VALUE), pfn), value);
  }

  static AccessBatch.Builder read(AccessBatch.Builder b, int pfn) {
    return addPfn(addOp(b, org.balloonlab.proto.AccessOp.ACCESS_OP_READ_VALUE), pfn);
  }

  static List<Long> readValues(AccessBatchResult r) {
    LongBuffer values = r.getReadValues().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
    List<Long> out = new ArrayList<>();
    while (values.hasRemaining()) {
      out.add(values.get());
    }
    return out;
  }
}
