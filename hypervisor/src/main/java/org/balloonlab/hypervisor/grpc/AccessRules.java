package org.balloonlab.hypervisor.grpc;

import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.health.v1.HealthGrpc;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.balloonlab.proto.BalloonServiceGrpc;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.transport.Access;

/**
 * Which token each of the hypervisor's methods needs (docs/security.md):
 * <ul>
 *   <li>the operator token for the control plane: SetBalloonTarget, SetDriverMode, SetTau, PowerOffVm,
 *       HoldClock;</li>
 *   <li>the lab token (or the operator token) to join the lab (PowerOn) and for a guest's own calls (Access,
 *       PowerOff, the balloon service), which also need their VM's credential, as before;</li>
 *   <li>nothing from a loopback peer, a token from any other, for the read-only views: ListVms, GetVm,
 *       GetMachine, GetDecisions, WatchEvents, and reflection;</li>
 *   <li>nothing for the health check.</li>
 * </ul>
 * A method missing from the table needs the operator token: a new RPC is closed until someone decides.
 */
final class AccessRules implements Function<String, Access> {
  private final Map<String, Access> byMethod = new HashMap<>();

  AccessRules() {
    operator(ManagementServiceGrpc.getSetBalloonTargetMethod());
    operator(ManagementServiceGrpc.getSetDriverModeMethod());
    operator(ManagementServiceGrpc.getPowerOffVmMethod());
    operator(ManagementServiceGrpc.getHoldClockMethod());
    operator(ManagementServiceGrpc.getSetTauMethod());
    read(ManagementServiceGrpc.getListVmsMethod());
    read(ManagementServiceGrpc.getGetVmMethod());
    read(ManagementServiceGrpc.getGetDecisionsMethod());
    read(ManagementServiceGrpc.getGetMachineMethod());
    read(ManagementServiceGrpc.getWatchEventsMethod());
    all(MachineServiceGrpc.getServiceDescriptor(), Access.LAB);
    all(BalloonServiceGrpc.getServiceDescriptor(), Access.LAB);
    all(HealthGrpc.getServiceDescriptor(), Access.OPEN);
    // Reflection describes the services, nothing of the lab: a read-only view.
    byMethod.put("grpc.reflection.v1.ServerReflection/ServerReflectionInfo", Access.READ);
    byMethod.put("grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", Access.READ);
  }

  @Override
  public Access apply(String fullMethodName) {
    return byMethod.getOrDefault(fullMethodName, Access.OPERATOR);
  }

  private void operator(MethodDescriptor<?, ?> m) {
    byMethod.put(m.getFullMethodName(), Access.OPERATOR);
  }

  private void read(MethodDescriptor<?, ?> m) {
    byMethod.put(m.getFullMethodName(), Access.READ);
  }

  private void all(ServiceDescriptor service, Access access) {
    for (MethodDescriptor<?, ?> m : service.getMethods()) {
      byMethod.put(m.getFullMethodName(), access);
    }
  }
}
