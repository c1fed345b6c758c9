package org.balloonlab.lab;

import org.balloonlab.proto.DriverModeRequest;
import org.balloonlab.proto.ManagementServiceGrpc.ManagementServiceBlockingStub;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmState;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code balloonlab driver VM MODE}: switches a VM's balloon driver at run time, for fault injection. */
@Command(name = "driver", mixinStandardHelpOptions = true,
    description = "Switches a VM's balloon driver to another mode at run time: enabled, disabled, uninstalled, "
        + "late:DURATION, slow:PAGES_PER_SECOND, stuck[:PROBABILITY]. The driver hears of it at once (doorbell) "
        + "or at its next poll; an uninstalled driver never hears again.")
final class DriverCommand extends VmCommand {
  @Parameters(index = "1", paramLabel = "MODE", description = "The mode to switch to.")
  String mode;

  @Override
  String apply(ManagementServiceBlockingStub stub, VmSelector vm) {
    DriverModeRequest request;
    try {
      request = DriverModes.parse(mode);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    VmState state = stub.setDriverMode(SetDriverModeRequest.newBuilder().setVm(vm).setMode(request).build());
    return state.getName() + ": balloon driver asked to switch to " + state.getBalloon().getRequestedMode();
  }
}
