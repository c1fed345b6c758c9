package org.balloonlab.lab;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.lab.scenario.ScenarioException;
import org.balloonlab.lab.scenario.ScenarioParser;
import org.balloonlab.transport.Token;
import org.balloonlab.units.ExitCodes;
import org.balloonlab.units.HostPort;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code balloonlab run SCENARIO.yaml}: runs a lab described in a scenario file, or part of it. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Runs the lab a scenario file describes: the hypervisor and every guest as separate JVMs, a live "
        + "table of the lab, the scheduled actions when they are due, and a report with plots at the end in "
        + "runs/<name>-<date>-<time>/. Ctrl-C stops it early (the report is still written).",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {ExitCodes.OK + ":the run ended and every process ended well",
        ExitCodes.FAILED + ":a guest ended badly (see its log), or a process could not be started",
        ExitCodes.USAGE + ":bad command line or scenario file",
        ExitCodes.INTERRUPTED + ":Ctrl-C (the report of what ran is still written)",
        ExitCodes.TERMINATED + ":SIGTERM (the report of what ran is still written)"})
final class RunCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SCENARIO",
      description = "The scenario file, such as scenarios/overcommit-ballooning.yaml.")
  Path file;

  @Option(names = "--only", paramLabel = "PART", split = ",",
      description = "Run only these parts here: hypervisor and/or guest names (comma-separated); the rest runs "
          + "elsewhere. Without hypervisor, give --hypervisor.")
  List<String> only = List.of();

  @Option(names = "--hypervisor", paramLabel = "HOST:PORT",
      description = "The hypervisor to join when --only leaves it out.")
  HostPort hypervisor;

  @Option(names = "--listen", paramLabel = "HOST:PORT",
      description = "Where the hypervisor listens, overriding the scenario (0.0.0.0:7400 to serve other machines).")
  HostPort listen;

  @Option(names = "--duration", paramLabel = "DURATION", description = "Overrides the scenario's duration.")
  Duration duration;

  @CommandLine.Mixin
  RunOutput output = new RunOutput();

  @CommandLine.Mixin
  ClientSecurityOptions security = new ClientSecurityOptions();

  @Option(names = "--hypervisor-tls-cert", paramLabel = "FILE",
      description = "The hypervisor started here serves TLS with this certificate (PEM); with --hypervisor-tls-key. "
          + "Guests started here then need --tls-ca.")
  Path hypervisorTlsCert;

  @Option(names = "--hypervisor-tls-key", paramLabel = "FILE",
      description = "The private key of --hypervisor-tls-cert (PEM, PKCS#8).")
  Path hypervisorTlsKey;

  @Option(names = "--hypervisor-tls-client-ca", paramLabel = "FILE",
      description = "The hypervisor started here requires client certificates signed by this CA (mutual TLS); "
          + "give --tls-cert and --tls-key for this launcher and its guests.")
  Path hypervisorTlsClientCa;

  @Override
  public Integer call() throws Exception {
    Scenario scenario;
    try {
      scenario = ScenarioParser.parse(file);
    } catch (ScenarioException e) {
      spec.commandLine().getErr().println(e.getMessage());
      spec.commandLine().getErr().flush();
      return ExitCodes.USAGE;
    } catch (java.nio.file.NoSuchFileException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "no scenario file " + file
          + " (the scenarios that come with BalloonLab are in scenarios/)");
    } catch (java.io.IOException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "cannot read " + file + ": " + e.getMessage());
    }
    if (duration != null) {
      if (duration.isZero() || duration.isNegative()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--duration must be positive");
      }
      scenario = new Scenario(scenario.name(), scenario.source(), scenario.description(), scenario.hypervisor(),
          scenario.guests(), scenario.actions(), duration, scenario.report());
    }
    return run(spec, scenario, new LinkedHashSet<>(only), hypervisor, listen, output, security,
        hypervisorTlsFlags());
  }

  /** The TLS flags for the hypervisor started here. */
  private List<String> hypervisorTlsFlags() {
    List<String> flags = new ArrayList<>();
    if ((hypervisorTlsCert == null) != (hypervisorTlsKey == null)) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--hypervisor-tls-cert and --hypervisor-tls-key go together");
    }
    if (hypervisorTlsCert != null) {
      flags.addAll(List.of("--tls-cert", hypervisorTlsCert.toString(), "--tls-key", hypervisorTlsKey.toString()));
    }
    if (hypervisorTlsClientCa != null) {
      if (hypervisorTlsCert == null) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--hypervisor-tls-client-ca needs --hypervisor-tls-cert and --hypervisor-tls-key");
      }
      flags.addAll(List.of("--tls-client-ca", hypervisorTlsClientCa.toString()));
    }
    return flags;
  }

  static int run(CommandLine.Model.CommandSpec spec, Scenario scenario, Set<String> only, HostPort hypervisor,
                 HostPort listen, RunOutput output, ClientSecurityOptions security, List<String> hypervisorTls)
      throws Exception {
    LabRun run;
    CommandLine cl = spec.commandLine();
    try {
      run = new LabRun(scenario, new LabRun.Options(only, hypervisor, listen, output.runDir, output.ansi(),
          output.dashboard),
          cl.getOut());
      // A hypervisor elsewhere: its tokens may be in its state directory if it runs on this machine.
      Token operator = hypervisor == null ? security.operatorToken(null, System.getenv()).orElse(null)
          : security.operatorToken(hypervisor, System.getenv()).orElse(null);
      Token lab = hypervisor == null ? security.labToken(System.getenv()).orElse(null)
          : security.labToken(hypervisor, System.getenv()).orElse(null);
      run.secure(security.tls(cl), operator, lab, hypervisorTls);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, e.getMessage());
    }
    return run.run();
  }
}
