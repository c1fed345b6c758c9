package org.balloonlab.lab;

import org.balloonlab.proto.ManagementServiceGrpc.ManagementServiceBlockingStub;
import org.balloonlab.proto.PowerOffVmRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine.Command;

/** {@code balloonlab poweroff VM}: powers a VM off from the operator's side, as pulling its power would. */
@Command(name = "poweroff", mixinStandardHelpOptions = true,
    description = "Powers a VM off: the hypervisor frees all its frames and host swap at once; its guest agent "
        + "finds out at its next access and exits.")
final class PowerOffCommand extends VmCommand {
  @Override
  String apply(ManagementServiceBlockingStub stub, VmSelector vm) {
    VmState state = stub.powerOffVm(PowerOffVmRequest.newBuilder().setVm(vm).build());
    return state.getName() + ": powered off; it held " + MemorySize.humanPages(state.getMappedPages())
        + " mapped and " + MemorySize.humanPages(state.getHostSwappedPages()) + " in host swap";
  }
}
