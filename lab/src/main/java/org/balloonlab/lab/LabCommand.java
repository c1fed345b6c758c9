package org.balloonlab.lab;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.lab.scenario.ClockSpec;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.HypervisorSpec;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.units.ExitCodes;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code balloonlab lab}: runs the default lab, a scenario built from a few flags instead of a file, with the same
 * launcher, live table and report as {@code balloonlab run}. The default lab overcommits machine memory 1.5 times
 * with two guests whose workloads together touch more memory than the machine has, so the hypervisor must page,
 * and one guest pages itself too. Like a scenario, it runs on the lab clock, in lockstep.
 */
@Command(name = "lab", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Runs a hypervisor and guests as separate JVMs on this machine and shows what happens.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {ExitCodes.OK + ":the run ended and every process ended well",
        ExitCodes.FAILED + ":a guest ended badly (see its log), or a process could not be started",
        ExitCodes.USAGE + ":bad command line",
        ExitCodes.INTERRUPTED + ":Ctrl-C (the report of what ran is still written)",
        ExitCodes.TERMINATED + ":SIGTERM (the report of what ran is still written)"})
final class LabCommand implements Callable<Integer> {
  private static final List<String> DEFAULT_WORKLOADS = List.of(
      "hotset:footprint=160MiB,hot=0.25,hot-share=0.9",
      "phases:sizes=64MiB/224MiB/96MiB,accesses=3000000,loop=true",
      "uniform:footprint=96MiB");

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "256MiB",
      description = "Machine memory (default: ${DEFAULT-VALUE}).")
  MemorySize memory;

  @Option(names = "--guests", paramLabel = "N", defaultValue = "2",
      description = "Guests to run (default: ${DEFAULT-VALUE}).")
  int guests;

  @Option(names = "--guest-memory", paramLabel = "SIZE", defaultValue = "192MiB",
      description = "Each guest's configured memory (default: ${DEFAULT-VALUE}).")
  MemorySize guestMemory;

  @Option(names = "--workload", paramLabel = "SPEC",
      description = "Workload of guest i, given once per guest in order (default: a hot set, growing and "
          + "shrinking phases, a uniform scan).")
  List<String> workloads = new ArrayList<>();

  @Option(names = "--duration", paramLabel = "DURATION", defaultValue = "20s",
      description = "How long the guests run, in lab time (simulated; default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "1s",
      description = "Lab time between two samples and live lines (default: ${DEFAULT-VALUE}).")
  Duration interval;

  @Option(names = "--pace", paramLabel = "PACE", defaultValue = "max",
      description = "How fast lab time runs: max (as fast as the CPUs allow), 1x (no faster than the wall clock, "
          + "for typing commands into the lab) or a factor such as 0.5x (default: ${DEFAULT-VALUE}).")
  String pace;

  @CommandLine.Mixin
  RunOutput output = new RunOutput();

  @Override
  public Integer call() throws Exception {
    OptionCheck.require(spec, guests >= 1 && guests <= 64, "--guests must be from 1 to 64");
    OptionCheck.require(spec, !duration.isZero() && !duration.isNegative(), "--duration must be positive");
    OptionCheck.require(spec, !interval.isZero() && !interval.isNegative(), "--interval must be positive");
    OptionCheck.require(spec, workloads.isEmpty() || workloads.size() == guests,
        "give --workload once per guest (" + guests + "), or not at all");
    String clockPace;
    try {
      clockPace = ClockSpec.parsePace(pace);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--pace: " + e.getMessage());
    }
    OptionCheck.pages(spec, memory, "--memory");
    OptionCheck.pages(spec, guestMemory, "--guest-memory");
    List<GuestSpec> specs = new ArrayList<>();
    for (int i = 0; i < guests; i++) {
      String workload = workloads.isEmpty() ? DEFAULT_WORKLOADS.get(i % DEFAULT_WORKLOADS.size()) : workloads.get(i);
      try {
        WorkloadSpec.parse(workload);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--workload: " + e.getMessage());
      }
      specs.add(GuestSpec.builder("vm" + (i + 1), guestMemory, List.of(workload)).seed(i + 1L).build());
    }
    HypervisorSpec hypervisor = HypervisorSpec.builder(memory)
        .clock(new ClockSpec(true, null, clockPace, null)).build();
    Scenario scenario = new Scenario("lab", "balloonlab lab", "", hypervisor, specs, List.of(), duration,
        new Scenario.ReportSpec(interval, true, "runs"));
    return RunCommand.run(spec, scenario, Set.of(), null, null, output, new ClientSecurityOptions(), List.of());
  }
}
