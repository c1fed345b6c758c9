package org.balloonlab.lab;

import java.io.PrintWriter;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code balloonlab balloon VM SIZE}: sets a VM's balloon target by hand, as QEMU's {@code balloon} does. */
@Command(name = "balloon", mixinStandardHelpOptions = true,
    description = "Sets a VM's balloon target: how much of its memory its balloon driver should hold. "
        + "0 deflates the balloon.")
final class BalloonCommand extends ControlCommand {
  @Parameters(index = "0", paramLabel = "VM", description = "The VM's name or id.")
  String vm;

  @Parameters(index = "1", paramLabel = "SIZE", description = "The balloon target, such as 256MiB.")
  MemorySize target;

  @Override
  void call(ManagementClient client, PrintWriter out) {
    long pages = target.bytes() == 0 ? 0 : OptionCheck.pages(spec, target, "SIZE");
    VmState state = client.stub().setBalloonTarget(SetBalloonTargetRequest.newBuilder()
        .setVm(ManagementClient.select(vm)).setTargetPages(pages).build());
    out.printf("%s: balloon target %s, balloon now %s%n", state.getName(),
        MemorySize.humanPages(state.getBalloon().getTargetPages()),
        MemorySize.humanPages(state.getBalloon().getSizePages()));
  }
}
