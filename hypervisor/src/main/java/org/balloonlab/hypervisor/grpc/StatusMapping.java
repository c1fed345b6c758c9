package org.balloonlab.hypervisor.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.balloonlab.hypervisor.machine.MachineException;

/** The one place where the machine's refusals become gRPC statuses. */
final class StatusMapping {
  private StatusMapping() {}

  static StatusRuntimeException toStatus(MachineException e) {
    Status status = switch (e.reason()) {
      case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case NOT_FOUND -> Status.NOT_FOUND;
      case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
      case PERMISSION_DENIED -> Status.PERMISSION_DENIED;
      case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
      case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
    };
    return status.withDescription(e.getMessage()).asRuntimeException();
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
