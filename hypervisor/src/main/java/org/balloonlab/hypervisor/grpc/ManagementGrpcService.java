package org.balloonlab.hypervisor.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineSnapshot;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.machine.VmSnapshot;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.proto.GetDecisionsRequest;
import org.balloonlab.proto.GetDecisionsResponse;
import org.balloonlab.proto.GetMachineRequest;
import org.balloonlab.proto.GetVmRequest;
import org.balloonlab.proto.HoldClockReply;
import org.balloonlab.proto.HoldClockRequest;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOffVmRequest;
import org.balloonlab.proto.WatchEventsRequest;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.SetTauRequest;
import org.balloonlab.proto.SetTauResponse;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmState;

/**
 * The machine for operators: views (every call one consistent snapshot), the operator's orders (balloon target,
 * driver mode, idle memory tax rate, power off) and the machine's events as they happen.
 */
final class ManagementGrpcService extends ManagementServiceGrpc.ManagementServiceImplBase implements AutoCloseable {
  private final Machine machine;
  /** The streams of operators who follow the machine's events; this service's own. */
  private final EventWatchers watchers;
  private final LabClockEdge clock;

  ManagementGrpcService(Machine machine, LabClockEdge clock) {
    this.machine = machine;
    this.clock = clock;
    this.watchers = new EventWatchers(machine.events());
  }

  /** Stops sending events; open streams end when the server shuts down. */
  @Override
  public void close() {
    watchers.close();
  }

  /** Answers every powered-on VM and the machine, from one snapshot. */
  @Override
  public void listVms(ListVmsRequest request, StreamObserver<ListVmsResponse> responses) {
    MachineSnapshot snapshot = machine.snapshot();
    ListVmsResponse.Builder b = ListVmsResponse.newBuilder().setMachine(ProtoMapping.toProto(snapshot).toBuilder()
        .setClock(clock.state()));
    for (VmSnapshot vm : snapshot.vms()) {
      b.addVms(ProtoMapping.toProto(vm));
    }
    responses.onNext(b.build());
    responses.onCompleted();
  }

  /** Answers one VM, found by id or by name. */
  @Override
  public void getVm(GetVmRequest request, StreamObserver<VmState> responses) {
    StatusMapping.answer(responses, () -> ProtoMapping.toProto(switch (request.getSelectorCase()) {
      case VM_ID -> machine.vm(request.getVmId());
      case NAME -> machine.vm(request.getName());
      default -> throw StatusMapping.invalid("GetVm needs a VM id or a name");
    }));
  }

  /** Answers the policy's latest decisions that moved one VM's target, oldest first. */
  @Override
  public void getDecisions(GetDecisionsRequest request, StreamObserver<GetDecisionsResponse> responses) {
    StatusMapping.answer(responses, () -> {
      if (request.getMax() < 0) {
        throw StatusMapping.invalid("max must be 0 (all) or positive, got " + request.getMax());
      }
      return DecisionMapping.toProto(machine.decisions(select(request.getVm())), request.getMax());
    });
  }

  /** Answers the machine-wide state. */
  @Override
  public void getMachine(GetMachineRequest request, StreamObserver<MachineState> responses) {
    responses.onNext(ProtoMapping.toProto(machine.snapshot()).toBuilder().setClock(clock.state()).build());
    responses.onCompleted();
  }

  /** Answers the VM's state after pinning its balloon target, or after handing it back to the policy. */
  @Override
  public void setBalloonTarget(SetBalloonTargetRequest request, StreamObserver<VmState> responses) {
    clock.command(() -> StatusMapping.answer(responses, () -> {
      Vm vm = select(request.getVm());
      return ProtoMapping.toProto(request.getAutomatic() ? machine.unpinBalloonTarget(vm)
          : machine.setBalloonTarget(vm, request.getTargetPages()));
    }), true);
  }

  /**
   * Answers the machine's idle memory tax rate, and the VM's state when the request names one, after changing
   * the rate at the lab clock's boundary.
   */
  @Override
  public void setTau(SetTauRequest request, StreamObserver<SetTauResponse> responses) {
    clock.command(() -> StatusMapping.answer(responses, () -> {
      boolean forVm = request.hasVm();
      double tau = request.getTau();
      if (!(forVm && request.getInherit()) && !(tau >= 0 && tau <= ReclamationSettings.MAX_TAU)) {
        // Checked here too so that NaN never reaches the domain, whatever it accepts.
        throw StatusMapping.invalid("tau must be from 0 to " + ReclamationSettings.MAX_TAU + ", got "
            + request.getTau());
      }
      if (request.getInherit() && !forVm) {
        throw StatusMapping.invalid("inherit needs a VM: the machine's rate is inherited from nothing");
      }
      Vm vm = forVm ? select(request.getVm()) : null;
      double machineTau = machine.setTau(vm, request.getTau(), request.getInherit());
      SetTauResponse.Builder b = SetTauResponse.newBuilder().setMachineTau(machineTau);
      if (vm != null) {
        b.setVm(ProtoMapping.toProto(machine.vm(vm.id())));
      }
      return b.build();
    }), true);
  }

  /** Answers the VM's state after passing the mode request to its driver. */
  @Override
  public void setDriverMode(SetDriverModeRequest request, StreamObserver<VmState> responses) {
    clock.command(() -> StatusMapping.answer(responses, () -> {
      Vm vm = select(request.getVm());
      if (!request.hasMode()) {
        throw StatusMapping.invalid("SetDriverMode needs a mode");
      }
      return ProtoMapping.toProto(machine.setDriverMode(vm, ProtoMapping.fromProto(request.getMode())));
    }), true);
  }

  /** Answers the VM's last state after powering it off and freeing all it held. */
  @Override
  public void powerOffVm(PowerOffVmRequest request, StreamObserver<VmState> responses) {
    clock.command(() -> StatusMapping.answer(responses, () ->
        ProtoMapping.toProto(machine.powerOffByOperator(select(request.getVm())))), true);
  }

  /** Streams the machine's events after the requested sequence, and new ones while the caller follows. */
  @Override
  public void watchEvents(WatchEventsRequest request, StreamObserver<org.balloonlab.proto.MachineEvent> events) {
    watchers.watch(request, (ServerCallStreamObserver<org.balloonlab.proto.MachineEvent>) events);
  }

  /** Holds the lab clock at the times the caller names, while its stream is open. */
  @Override
  public StreamObserver<HoldClockRequest> holdClock(StreamObserver<HoldClockReply> replies) {
    return new ClockHold(clock, replies);
  }

  private Vm select(VmSelector selector) {
    return switch (selector.getSelectorCase()) {
      case VM_ID -> machine.vmById(selector.getVmId());
      case NAME -> machine.vmByName(selector.getName());
      default -> throw StatusMapping.invalid("a VM id or name is required");
    };
  }
}
