package org.balloonlab.lab;

import java.io.PrintWriter;
import org.balloonlab.proto.PowerOffVmRequest;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code balloonlab poweroff VM}: powers a VM off from the operator's side, as pulling its power would. */
@Command(name = "poweroff", mixinStandardHelpOptions = true,
    description = "Powers a VM off: the hypervisor frees all its frames and host swap at once; its guest agent "
        + "finds out at its next access and exits.")
final class PowerOffCommand extends ControlCommand {
  @Parameters(index = "0", paramLabel = "VM", description = "The VM's name or id.")
  String vm;

  @Override
  void call(ManagementClient client, PrintWriter out) {
    VmState state = client.stub().powerOffVm(PowerOffVmRequest.newBuilder().setVm(ManagementClient.select(vm))
        .build());
    out.printf("%s: powered off; it held %s mapped and %s in host swap%n", state.getName(),
        MemorySize.humanPages(state.getMappedPages()), MemorySize.humanPages(state.getHostSwappedPages()));
  }
}
