package org.balloonlab.lab;

import java.io.PrintWriter;
import org.balloonlab.proto.DriverModeRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.VmState;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code balloonlab driver VM MODE}: switches a VM's balloon driver at run time, for fault injection. */
@Command(name = "driver", mixinStandardHelpOptions = true,
    description = "Switches a VM's balloon driver to another mode at run time: enabled, disabled, uninstalled, "
        + "late:DURATION, slow:PAGES_PER_SECOND, stuck[:PROBABILITY]. The driver hears of it at once (doorbell) "
        + "or at its next poll; an uninstalled driver never hears again.")
final class DriverCommand extends ControlCommand {
  @Parameters(index = "0", paramLabel = "VM", description = "The VM's name or id.")
  String vm;

  @Parameters(index = "1", paramLabel = "MODE", description = "The mode to switch to.")
  String mode;

  @Override
  void call(ManagementClient client, PrintWriter out) {
    DriverModeRequest request;
    try {
      request = DriverModes.parse(mode);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    VmState state = client.stub().setDriverMode(SetDriverModeRequest.newBuilder()
        .setVm(ManagementClient.select(vm)).setMode(request).build());
    out.printf("%s: balloon driver asked to switch to %s%n", state.getName(), state.getBalloon().getRequestedMode());
  }
}
