package org.balloonlab.lab;

import com.google.protobuf.util.JsonFormat;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.transport.Channels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code balloonlab status}: the machine and its VMs, as a table or as JSON. */
// The bundle words --hypervisor for a command that asks rather than orders.
@Command(name = "status", mixinStandardHelpOptions = true, resourceBundle = "org.balloonlab.lab.StatusHelp",
    description = "Prints a running hypervisor's machine state and every VM's counters.")
final class StatusCommand extends ControlCommand {
  @Option(names = "--json", description = "Print the state as JSON.")
  boolean json;

  @Override
  void call(ManagementClient client, PrintWriter out) throws Exception {
    ListVmsResponse state = client.stub().listVms(ListVmsRequest.getDefaultInstance());
    if (json) {
      out.println(JsonFormat.printer().print(state));
    } else {
      out.println(VmTable.header());
      out.println(VmTable.render("now", state));
      out.println(VmTable.limitsLine(state.getMachine()));
      String sharing = VmTable.sharingLines(state);
      if (sharing != null) {
        out.println(sharing);
      }
      VmTable.inNaturalOrder(state).forEach(vm -> out.println(VmTable.guestStatsLine(vm)));
    }
  }

  /** Status is the first thing tried against a hypervisor, so its failure says which address it tried. */
  @Override
  String refusal(StatusRuntimeException e) {
    return "status: the hypervisor at " + hypervisor + " refused: " + e.getStatus().getCode() + " "
        + Channels.describe(e) + plaintextHint(e);
  }
}
