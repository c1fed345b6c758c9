package org.balloonlab.lab;

import java.io.PrintWriter;
import org.balloonlab.proto.SetTauRequest;
import org.balloonlab.proto.SetTauResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code balloonlab tau RATE [--vm VM]}: changes the idle memory tax rate at run time, machine-wide or for one VM,
 * as the ESX paper did between the runs of its Fig. 7; {@code --vm VM --inherit} gives a VM the machine's rate back.
 */
@Command(name = "tau", mixinStandardHelpOptions = true,
    description = "Changes the idle memory tax rate (0 to 0.99) of the reclamation policy: the machine's, or with "
        + "--vm that VM's own. The policy's next decision uses it.")
final class TauCommand extends ControlCommand {
  @Parameters(index = "0", arity = "0..1", paramLabel = "RATE",
      description = "The rate, 0 (shares alone) to 0.99; leave it out with --inherit.")
  Double rate;

  @Option(names = "--vm", paramLabel = "VM", description = "The VM (name or id) whose own rate to set.")
  String vm;

  @Option(names = "--inherit", description = "With --vm: drop the VM's own rate, so the machine's applies again.")
  boolean inherit;

  @Override
  void call(ManagementClient client, PrintWriter out) {
    OptionCheck.require(spec, !inherit || vm != null, "--inherit needs --vm");
    OptionCheck.require(spec, inherit || rate != null, "RATE is required (or --vm VM --inherit)");
    OptionCheck.require(spec, inherit || rate >= 0 && rate <= 0.99, "RATE must be from 0 to 0.99, got " + rate);
    SetTauRequest.Builder request = SetTauRequest.newBuilder().setInherit(inherit);
    if (!inherit) {
      request.setTau(rate);
    }
    if (vm != null) {
      request.setVm(ManagementClient.select(vm));
    }
    SetTauResponse r = client.stub().setTau(request.build());
    out.println(vm == null ? "machine: idle memory tax rate " + r.getMachineTau()
        : r.getVm().getName() + ": idle memory tax rate " + r.getVm().getReclamation().getTau()
            + (r.getVm().getReclamation().getOwnTau() ? " (its own)" : " (the machine's)"));
  }
}
