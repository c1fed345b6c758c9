package org.balloonlab.lab;

import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import org.balloonlab.proto.PowerOffVmRequest;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code balloonlab poweroff VM}: powers a VM off from the operator's side, as pulling its power would. */
@Command(name = "poweroff", mixinStandardHelpOptions = true,
    description = "Powers a VM off: the hypervisor frees all its frames and host swap at once; its guest agent "
        + "finds out at its next access and exits.")
final class PowerOffCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--hypervisor", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7400",
      description = "The hypervisor (default: ${DEFAULT-VALUE}).")
  HostPort hypervisor;

  @Parameters(index = "0", paramLabel = "VM", description = "The VM's name or id.")
  String vm;

  @Override
  public Integer call() throws Exception {
    try (ManagementClient client = new ManagementClient(hypervisor)) {
      VmState state = client.stub().powerOffVm(PowerOffVmRequest.newBuilder()
          .setVm(ManagementClient.select(vm)).build());
      spec.commandLine().getOut().printf("%s: powered off; it held %s mapped and %s in host swap%n",
          state.getName(), MemorySize.humanPages(state.getMappedPages()),
          MemorySize.humanPages(state.getHostSwappedPages()));
      return 0;
    } catch (StatusRuntimeException e) {
      spec.commandLine().getErr().println("poweroff: " + e.getStatus().getCode() + " "
          + e.getStatus().getDescription());
      return 5;
    }
  }
}
