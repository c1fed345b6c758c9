package org.balloonlab.lab;

import org.balloonlab.proto.ManagementServiceGrpc.ManagementServiceBlockingStub;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code balloonlab balloon VM SIZE}: sets a VM's balloon target by hand, as QEMU's {@code balloon} does. */
@Command(name = "balloon", mixinStandardHelpOptions = true,
    description = "Sets a VM's balloon target: how much of its memory its balloon driver should hold. "
        + "0 deflates the balloon.")
final class BalloonCommand extends VmCommand {
  @Parameters(index = "1", paramLabel = "SIZE", description = "The balloon target, such as 256MiB.")
  MemorySize target;

  @Override
  String apply(ManagementServiceBlockingStub stub, VmSelector vm) {
    long pages = target.bytes() == 0 ? 0 : OptionCheck.pages(spec, target, "SIZE");
    VmState state = stub.setBalloonTarget(SetBalloonTargetRequest.newBuilder().setVm(vm).setTargetPages(pages)
        .build());
    return state.getName() + ": balloon target " + MemorySize.humanPages(state.getBalloon().getTargetPages())
        + ", balloon now " + MemorySize.humanPages(state.getBalloon().getSizePages());
  }
}
