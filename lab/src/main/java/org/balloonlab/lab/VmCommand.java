package org.balloonlab.lab;

import java.io.PrintWriter;
import org.balloonlab.proto.ManagementServiceGrpc.ManagementServiceBlockingStub;
import org.balloonlab.proto.VmSelector;
import picocli.CommandLine.Parameters;

/**
 * An operator's command about one VM ({@code balloon}, {@code driver}, {@code poweroff}): the VM comes first, one
 * call is made about it, and one line says what the hypervisor answered.
 */
abstract class VmCommand extends ControlCommand {
  @Parameters(index = "0", paramLabel = "VM", description = "The VM's name or id.")
  String vm;

  @Override
  final void call(ManagementClient client, PrintWriter out) {
    out.println(apply(client.stub(), ManagementClient.select(vm)));
  }

  /** Makes the command's call about {@code vm}; answers the line to print. */
  abstract String apply(ManagementServiceBlockingStub stub, VmSelector vm);
}
