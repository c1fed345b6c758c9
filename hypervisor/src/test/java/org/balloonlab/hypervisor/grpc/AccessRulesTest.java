package org.balloonlab.hypervisor.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.Map;
import java.util.TreeMap;
import org.balloonlab.proto.BalloonServiceGrpc;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.transport.Access;
import org.junit.jupiter.api.Test;

/** Which token every RPC of the three services needs: the table of docs/security.md, method by method. */
class AccessRulesTest {
  private final AccessRules rules = new AccessRules();

  @Test
  void everyMethodOfTheThreeServicesNeedsTheTokenDocsSecuritySays() {
    Map<String, Access> expected = new TreeMap<>(Map.ofEntries(
        Map.entry("ManagementService/ListVms", Access.READ),
        Map.entry("ManagementService/GetVm", Access.READ),
        Map.entry("ManagementService/GetDecisions", Access.READ),
        Map.entry("ManagementService/GetMachine", Access.READ),
        Map.entry("ManagementService/WatchEvents", Access.READ),
        Map.entry("ManagementService/SetBalloonTarget", Access.OPERATOR),
        Map.entry("ManagementService/SetDriverMode", Access.OPERATOR),
        Map.entry("ManagementService/PowerOffVm", Access.OPERATOR),
        Map.entry("ManagementService/HoldClock", Access.OPERATOR),
        Map.entry("ManagementService/SetTau", Access.OPERATOR),
        Map.entry("MachineService/PowerOn", Access.LAB),
        Map.entry("MachineService/PowerOff", Access.LAB),
        Map.entry("MachineService/Access", Access.LAB),
        Map.entry("BalloonService/Start", Access.LAB),
        Map.entry("BalloonService/GetTarget", Access.LAB),
        Map.entry("BalloonService/Lock", Access.LAB),
        Map.entry("BalloonService/Unlock", Access.LAB),
        Map.entry("BalloonService/ReportStats", Access.LAB),
        Map.entry("BalloonService/Doorbell", Access.LAB)));
    Map<String, Access> actual = new TreeMap<>();
    for (ServiceDescriptor s : new ServiceDescriptor[] {ManagementServiceGrpc.getServiceDescriptor(),
        MachineServiceGrpc.getServiceDescriptor(), BalloonServiceGrpc.getServiceDescriptor()}) {
      for (MethodDescriptor<?, ?> m : s.getMethods()) {
        String name = m.getFullMethodName();
        actual.put(name.substring(name.lastIndexOf('.') + 1), rules.apply(name));
      }
    }
    assertEquals(expected, actual);
  }

  @Test
  void healthIsOpenReflectionReadOnlyAndAnythingElseNeedsTheOperator() {
    assertEquals(Access.OPEN, rules.apply("grpc.health.v1.Health/Check"));
    assertEquals(Access.OPEN, rules.apply("grpc.health.v1.Health/Watch"));
    assertEquals(Access.READ, rules.apply("grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
    assertEquals(Access.OPERATOR, rules.apply("balloonlab.v1.ManagementService/SomethingNew"));
  }
}
