package org.balloonlab.hypervisor.grpc;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.balloonlab.hypervisor.machine.MachineException;

/**
 * The one place where the machine's refusals become gRPC statuses. A refusal because the VM is powered off also
 * carries a {@code google.rpc.ErrorInfo} detail (reason {@value #VM_POWERED_OFF}, domain {@value #DOMAIN},
 * metadata {@code vm} and {@code why}), so a guest recognises it without reading the message.
 */
final class StatusMapping {
  /** The ErrorInfo reason of a request on a VM that is powered off. */
  static final String VM_POWERED_OFF = "VM_POWERED_OFF";
  /** The ErrorInfo domain of BalloonLab's own reasons. */
  static final String DOMAIN = "balloonlab.org";

  private StatusMapping() {}

  static StatusRuntimeException toStatus(MachineException e) {
    Status status = switch (e.reason()) {
      case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case NOT_FOUND -> Status.NOT_FOUND;
      case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
      case PERMISSION_DENIED -> Status.PERMISSION_DENIED;
      case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
      case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
      case DATA_LOSS -> Status.DATA_LOSS;
      case INTERNAL -> Status.INTERNAL;
    };
    if (e.poweredOff().isEmpty()) {
      return status.withDescription(e.getMessage()).asRuntimeException();
    }
    MachineException.PoweredOff off = e.poweredOff().get();
    ErrorInfo info = ErrorInfo.newBuilder()
        .setReason(VM_POWERED_OFF)
        .setDomain(DOMAIN)
        .putMetadata("vm", off.vmName())
        .putMetadata("why", off.why())
        .build();
    // The same code and description as without the detail, which travels in the trailers beside them.
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(status.getCode().value())
        .setMessage(e.getMessage())
        .addDetails(Any.pack(info))
        .build());
  }

  /**
   * Answers a unary call with what {@code body} returns, or with the status its refusal maps to. A refused
   * call has changed nothing, so the status is all the caller needs.
   */
  static <T> void answer(StreamObserver<T> responses, Supplier<T> body) {
    T reply;
    try {
      reply = body.get();
    } catch (MachineException e) {
      responses.onError(toStatus(e));
      return;
    } catch (StatusRuntimeException e) {
      responses.onError(e);
      return;
    }
    responses.onNext(reply);
    responses.onCompleted();
  }

  static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }
}
