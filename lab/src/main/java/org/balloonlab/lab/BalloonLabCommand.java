package org.balloonlab.lab;

import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.hypervisor.cli.HypervisorCommand;
import org.balloonlab.lab.certs.CertsCommand;
import org.balloonlab.units.CommandLineConverters;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code balloonlab}: one entry point for every BalloonLab process and tool. */
@Command(name = "balloonlab", mixinStandardHelpOptions = true, version = "BalloonLab 0.1.0",
    description = "A simulator of memory virtualization and ballooning, run as separate processes.",
    subcommands = {RunCommand.class, LabCommand.class, StatusCommand.class, DashboardCommand.class,
        PowerOffCommand.class, EventsCommand.class, ExplainCommand.class, BalloonCommand.class, DriverCommand.class,
        TauCommand.class, PagingComparisonCommand.class,
        org.balloonlab.lab.experiment.ExperimentCommand.class,
        TranslationCommand.class, CertsCommand.class, HypervisorCommand.class, GuestAgentCommand.class, CommandLine.HelpCommand.class})
public final class BalloonLabCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    // A guest agent exits on its own: stopped by SIGTERM, it must not call exit from within the shutdown it is
    // part of.
    if (args.length > 0 && (args[0].equals("guest-agent") || args[0].equals("guest"))) {
      String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
      GuestAgentCommand.main(rest);
      return;
    }
    System.exit(CommandLineConverters.register(new CommandLine(new BalloonLabCommand())).execute(args));
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
