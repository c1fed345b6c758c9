package org.balloonlab.lab;

import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import org.balloonlab.proto.DriverModeRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.HostPort;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code balloonlab driver VM MODE}: switches a VM's balloon driver at run time, for fault injection. */
@Command(name = "driver", mixinStandardHelpOptions = true,
    description = "Switches a VM's balloon driver to another mode at run time: enabled, disabled, uninstalled, "
        + "late:DURATION, slow:PAGES_PER_SECOND, stuck[:PROBABILITY]. The driver hears of it at once (doorbell) "
        + "or at its next poll; an uninstalled driver never hears again.")
final class DriverCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--hypervisor", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7400",
      description = "The hypervisor (default: ${DEFAULT-VALUE}).")
  HostPort hypervisor;

  @Parameters(index = "0", paramLabel = "VM", description = "The VM's name or id.")
  String vm;

  @Parameters(index = "1", paramLabel = "MODE", description = "The mode to switch to.")
  String mode;

  @Override
  public Integer call() throws Exception {
    DriverModeRequest request;
    try {
      request = parse(mode);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    try (ManagementClient client = new ManagementClient(hypervisor)) {
      VmState state = client.stub().setDriverMode(SetDriverModeRequest.newBuilder()
          .setVm(ManagementClient.select(vm)).setMode(request).build());
      spec.commandLine().getOut().printf("%s: balloon driver asked to switch to %s%n", state.getName(),
          state.getBalloon().getRequestedMode());
      return 0;
    } catch (StatusRuntimeException e) {
      spec.commandLine().getErr().println("driver: " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
      return 5;
    }
  }

  static DriverModeRequest parse(String text) {
    return DriverModes.parse(text);
  }
}
