package org.balloonlab.lab;

import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code balloonlab balloon VM SIZE}: sets a VM's balloon target by hand, as QEMU's {@code balloon} does. */
@Command(name = "balloon", mixinStandardHelpOptions = true,
    description = "Sets a VM's balloon target: how much of its memory its balloon driver should hold. "
        + "0 deflates the balloon.")
final class BalloonCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--hypervisor", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7400",
      description = "The hypervisor (default: ${DEFAULT-VALUE}).")
  HostPort hypervisor;

  @Parameters(index = "0", paramLabel = "VM", description = "The VM's name or id.")
  String vm;

  @Parameters(index = "1", paramLabel = "SIZE", description = "The balloon target, such as 256MiB.")
  MemorySize target;

  @Override
  public Integer call() throws Exception {
    long pages;
    try {
      pages = target.bytes() == 0 ? 0 : target.requirePages("SIZE");
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    try (ManagementClient client = new ManagementClient(hypervisor)) {
      VmState state = client.stub().setBalloonTarget(SetBalloonTargetRequest.newBuilder()
          .setVm(ManagementClient.select(vm)).setTargetPages(pages).build());
      spec.commandLine().getOut().printf("%s: balloon target %s, balloon now %s%n", state.getName(),
          MemorySize.humanPages(state.getBalloon().getTargetPages()),
          MemorySize.humanPages(state.getBalloon().getSizePages()));
      return 0;
    } catch (StatusRuntimeException e) {
      spec.commandLine().getErr().println("balloon: " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
      return 5;
    }
  }
}
