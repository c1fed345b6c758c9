package org.balloonlab.lab;

import java.io.PrintWriter;
import org.balloonlab.proto.GetDecisionsRequest;
import org.balloonlab.proto.GetDecisionsResponse;
import org.balloonlab.proto.TargetDecision;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code balloonlab explain VM}: why the reclamation policy moved a VM's target, decision by decision, in words
 * (the hypervisor keeps the last 32 per VM).
 */
@Command(name = "explain", mixinStandardHelpOptions = true, resourceBundle = "org.balloonlab.lab.StatusHelp",
    description = "Explains the reclamation policy's latest decisions that moved a VM's balloon target: the "
        + "free-memory state, shares per page, the idle memory tax and the rule that bounded it.")
final class ExplainCommand extends ControlCommand {
  /** The most decisions the hypervisor keeps per VM. */
  static final int MAX_DECISIONS = 32;

  @Parameters(index = "0", paramLabel = "VM", description = "The VM, by name or id.")
  String vm;

  @Option(names = "--last", paramLabel = "N", defaultValue = "3",
      description = "How many of the latest decisions to explain, 1 to " + MAX_DECISIONS
          + " (default: ${DEFAULT-VALUE}).")
  int last;

  @Override
  void call(ManagementClient client, PrintWriter out) {
    OptionCheck.require(spec, last >= 1 && last <= MAX_DECISIONS,
        "--last must be from 1 to " + MAX_DECISIONS + ", got " + last);
    GetDecisionsResponse r = client.stub().getDecisions(GetDecisionsRequest.newBuilder()
        .setVm(ManagementClient.select(vm)).setMax(last).build());
    if (r.getDecisionsCount() == 0) {
      out.println("The reclamation policy has not moved " + vm + "'s balloon target yet (or its targets are set by "
          + "hand: the manual policy, or a pinned target).");
      return;
    }
    for (TargetDecision d : r.getDecisionsList()) {
      out.println(DecisionExplanation.explain(d));
      out.println();
    }
  }
}
