package org.balloonlab.lab.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ScenarioParserTest {
  private static final String GOOD = """
      name: fault
      description: a driver fault
      duration: 20s
      hypervisor:
        memory: 256MiB
        listen: 0.0.0.0:7400
        policy: esx
        tau: 0.75
        sample-pages: 100
        sample-period: 30s
        free: {high: 6, soft: 4, hard: 2, low: 1}
        host-swap: 1GiB
        seed: 3
      guests:
        - name: vm1
          memory: 192MiB
          min: 64MiB
          shares: 2000
          translation: shadow
          workload: {type: phases, sizes: [64MiB, 128MiB], accesses: 1000, loop: true}
          balloon: late:5s
          seed: 9
        - name: vm2
          max: 128MiB
          workload: uniform:footprint=96MiB
          autostart: false
      schedule:
        - {at: 12s, action: driver, vm: vm1, mode: disabled}
        - {at: 2s, action: start, vm: vm2}
        - {at: 15s, action: balloon, vm: vm1, target: 64MiB}
        - {at: 16s, action: kill, vm: vm2}
      report: {interval: 500ms, plots: false}
      """;

  static Scenario parse(String yaml) throws ScenarioException {
    return ScenarioParser.parse(new StringReader(yaml), "scenarios/t.yaml", "t");
  }

  static List<String> problems(String yaml) {
    return assertThrows(ScenarioException.class, () -> parse(yaml)).getMessage().lines().toList();
  }

  @Test
  void aGoodFileBecomesRecords() throws ScenarioException {
    Scenario s = parse(GOOD);
    assertEquals("fault", s.name());
    assertEquals(Duration.ofSeconds(20), s.duration());
    HypervisorSpec h = s.hypervisor();
    assertEquals(256L << 20, h.memory().bytes());
    assertEquals("0.0.0.0", h.listen().host());
    assertEquals(7400, h.listen().port());
    assertEquals("esx", h.policy());
    assertEquals(0.75, h.tau());
    assertEquals(100, h.samplePages());
    assertEquals(Duration.ofSeconds(30), h.samplePeriod());
    assertEquals(List.of(6.0, 4.0, 2.0, 1.0), List.of(h.freeHigh(), h.freeSoft(), h.freeHard(), h.freeLow()));
    assertEquals(List.of("--memory", "256MiB", "--host-swap", "1GiB", "--policy", "esx", "--tau", "0.75",
        "--sample-pages", "100", "--sample-period", "30000ms", "--free-high", "6.0", "--free-soft", "4.0",
        "--free-hard", "2.0", "--free-low", "1.0", "--seed", "3", "--lab-clock", "lockstep", "--pace", "max"),
        h.flags());
    GuestSpec vm1 = s.guests().get(0);
    assertEquals(List.of("phases:sizes=64MiB/128MiB,accesses=1000,loop=true"), vm1.workloads());
    assertEquals(List.of("--name", "vm1", "--memory", "192MiB", "--workload",
        "phases:sizes=64MiB/128MiB,accesses=1000,loop=true", "--min", "64MiB", "--shares", "2000",
        "--translation", "shadow", "--balloon", "late:5s", "--seed", "9"), vm1.flags());
    GuestSpec vm2 = s.guests().get(1);
    assertEquals(128L << 20, vm2.memory().bytes());
    assertFalse(vm2.autostart());
    assertTrue(s.guests().get(0).autostart());
    assertEquals(List.of("start vm2", "driver vm1 disabled", "balloon vm1 64MiB", "kill vm2"),
        s.actions().stream().map(ScheduledAction::describe).toList(), "actions come sorted by time");
    assertEquals(28, s.actions().get(1).line(), "where the file asks for it");
    assertEquals(Duration.ofMillis(500), s.report().sampleInterval());
    assertFalse(s.report().plots());
  }

  @Test
  void fieldsLeftOutAreNotPassedOnButALabRunsInLockstepAsFastAsItCan() throws ScenarioException {
    Scenario s = parse("""
        duration: 5s
        hypervisor: {memory: 64MiB}
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB}
        """);
    assertEquals(List.of("--memory", "64MiB", "--lab-clock", "lockstep", "--pace", "max"), s.hypervisor().flags());
    assertEquals(ClockSpec.DEFAULT, s.hypervisor().clock());
    assertEquals(List.of("--name", "a", "--memory", "32MiB", "--workload", "idle:footprint=8MiB"),
        s.guests().get(0).flags());
    assertNull(s.hypervisor().listen());
    assertEquals("t", s.name(), "the file's name when the scenario gives none");
    assertEquals(Scenario.ReportSpec.DEFAULT, s.report());
  }

  @Test
  void aGuestMayRunSeveralWorkloadsSideBySide() throws ScenarioException {
    Scenario s = parse("""
        duration: 5s
        hypervisor: {memory: 64MiB}
        guests:
          - name: a
            memory: 32MiB
            workload:
              - idle:footprint=8MiB
              - {type: hotset, footprint: 8MiB, ramp: 1000}
        """);
    assertEquals(List.of("--name", "a", "--memory", "32MiB", "--workload", "idle:footprint=8MiB", "--workload",
        "hotset:footprint=8MiB,ramp=1000"), s.guests().get(0).flags());
  }

  @Test
  void translationFieldsReachTheCommandLines() throws ScenarioException {
    Scenario s = parse("""
        duration: 5s
        hypervisor:
          memory: 64MiB
          tlb-entries: 64
          tlb-ways: 4
          tlb-untagged: true
          cost: {vm-exit: 2000, tlb-hit: 2}
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB, accesses: 4000000, slice: 500}
        """);
    HypervisorSpec h = s.hypervisor();
    assertEquals(List.of("tlb-hit=2", "vm-exit=2000"), h.costs(), "in the cost model's order");
    assertEquals(List.of("--memory", "64MiB", "--tlb-entries", "64", "--tlb-ways", "4", "--tlb-untagged",
        "--cost", "tlb-hit=2", "--cost", "vm-exit=2000", "--lab-clock", "lockstep", "--pace", "max"), h.flags());
    assertEquals(List.of("--name", "a", "--memory", "32MiB", "--workload", "idle:footprint=8MiB", "--accesses",
        "4000000", "--slice", "500"), s.guests().get(0).flags());
  }

  @Test
  void aDiskProfileReachesTheHypervisorBeforeTheCostsThatOverrideIt() throws ScenarioException {
    Scenario s = parse("""
        duration: 5s
        hypervisor:
          memory: 64MiB
          disk-profile: Disk-2002
          cost: {host-swap-write: 9000000}
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB}
        """);
    assertEquals("disk-2002", s.hypervisor().diskProfile());
    assertEquals(List.of("--memory", "64MiB", "--disk-profile", "disk-2002", "--cost", "host-swap-write=9000000",
        "--lab-clock", "lockstep", "--pace", "max"), s.hypervisor().flags());
  }

  @Test
  void anUnknownDiskProfileIsRefused() {
    List<String> problems = problems("""
        duration: 5s
        hypervisor:
          memory: 64MiB
          disk-profile: floppy
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB}
        """);
    assertEquals(List.of("scenarios/t.yaml:4: hypervisor.disk-profile: \"floppy\" is not one of ssd, disk-2002"),
        problems);
  }

  @Test
  void guestOsFieldsReachTheGuestAgent() throws ScenarioException {
    Scenario s = parse("""
        duration: 5s
        hypervisor: {memory: 64MiB}
        guests:
          - name: a
            memory: 32MiB
            os-kind: windows
            os-image: 0
            boot-metadata: 0.03
            workload: {type: files, files: 16MiB, footprint: 4MiB, data-set: census, data: 1MiB, zero: 1MiB}
        """);
    assertEquals(List.of("--name", "a", "--memory", "32MiB", "--workload",
        "files:files=16MiB,footprint=4MiB,data-set=census,data=1MiB,zero=1MiB", "--os-kind", "windows",
        "--os-image", "0B", "--boot-metadata", "0.03"), s.guests().get(0).flags());
    assertEquals(0, org.balloonlab.units.MemorySize.parse("0B").bytes(), "the guest agent reads it back");
  }

  @Test
  void guestOsFieldsAreChecked() {
    List<String> problems = problems("""
        duration: 5s
        hypervisor: {memory: 64MiB}
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB, os-kind: "no way", boot-metadata: 0.5}
          - {name: b, memory: 32MiB, workload: idle:footprint=8MiB, os-image: 20MiB}
          - {name: c, memory: 32MiB, workload: "files:footprint=8MiB"}
        """);
    assertEquals(List.of(
        "scenarios/t.yaml:4: guests[0].os-kind: 'no way' must be 1-64 characters of letters, digits, '.', '_' or '-'",
        "scenarios/t.yaml:4: guests[0].boot-metadata: 0.5 must be from 0 to 0.25",
        "scenarios/t.yaml:5: guests[1].os-image: the OS image and boot structures would pin 20.5MiB, more than half of "
            + "the guest's memory 32MiB",
        "scenarios/t.yaml:6: guests[2].workload: workload files needs files=SIZE, the size of its file, such as "
            + "files=256MiB"), problems);
  }

  @Test
  void translationFieldsAreCheckedAsTheHypervisorAndGuestCheckThem() {
    List<String> problems = problems("""
        duration: 5s
        hypervisor:
          memory: 64MiB
          tlb-entries: 100
          cost: {vm-exit: 2000, tlb-miss: 3}
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB, accesses: 0, slice: many}
        """);
    assertEquals(List.of(
        "scenarios/t.yaml:4: hypervisor.tlb-entries: TLB ways must be 1 to 64 and divide the entries (100), got 12",
        "scenarios/t.yaml:5: hypervisor.cost.tlb-miss: unknown key",
        "scenarios/t.yaml:7: guests[0].accesses: 0 must be from 1 to 9223372036854775807",
        "scenarios/t.yaml:7: guests[0].slice: \"many\" is not a whole number"),
        problems.stream().map(p -> p.replaceAll(" \\(known here: .*\\)$", "")).toList());
  }

  @Test
  void thePapersExperimentsCanBeWritten() throws ScenarioException {
    Scenario s = parse("""
        duration: 10m
        hypervisor:
          memory: 384MiB
          tau: 0
          sample-pages: 200
          sample-period: 5s
          sample-gains: {fast: 0.5, slow: 0.1}
          policy-period: 1s
          cost: {host-swap-read: 8000000, host-swap-write: 8000000}
        guests:
          - name: vm1
            memory: 256MiB
            workload: hotset:footprint=240MiB,schedule=idle:60s/active
            balloon-target: 64MiB
          - name: vm2
            memory: 256MiB
            workload: {type: hotset, footprint: 240MiB, schedule: [active:30s, idle:30s]}
            tau: 0
          - name: vm3
            memory: 64MiB
            workload: idle:footprint=8MiB
            autostart: false
            tau: 0.5
            balloon-target: 32MiB
        schedule:
          - {at: 5m, action: tau, tau: 0.75}
          - {at: 6m, action: tau, vm: vm1, tau: 0.25}
          - {at: 20s, action: start, vm: vm3}
        """);
    assertEquals(List.of("--memory", "384MiB", "--tau", "0.0", "--sample-pages", "200", "--sample-period", "5000ms",
        "--sample-gains", "0.5,0.1", "--policy-period", "1000ms", "--cost", "host-swap-read=8000000", "--cost",
        "host-swap-write=8000000", "--lab-clock", "lockstep", "--pace", "max"), s.hypervisor().flags());
    assertEquals(List.of("hotset:footprint=240MiB,schedule=idle:60s/active"), s.guests().get(0).workloads());
    assertEquals(List.of("hotset:footprint=240MiB,schedule=active:30s/idle:30s"), s.guests().get(1).workloads());
    assertEquals(0.0, s.guests().get(1).tau());
    assertEquals(64L << 20, s.guests().get(0).balloonTarget().bytes());
    assertEquals(List.of("--name", "vm1", "--memory", "256MiB", "--workload",
        "hotset:footprint=240MiB,schedule=idle:60s/active"), s.guests().get(0).flags(),
        "tau and balloon-target are orders of the hypervisor, not flags of the guest agent");
    // A guest's own tau and balloon-target become actions at its power-on: lab time 0, or right after its start.
    assertEquals(List.of("0s balloon vm1 64MiB", "0s tau vm2 0.0", "20s start vm3", "20s balloon vm3 32MiB",
            "20s tau vm3 0.5", "300s tau 0.75", "360s tau vm1 0.25"),
        s.actions().stream().map(a -> a.at().toSeconds() + "s " + a.describe()).toList());
  }

  @Test
  void theExperimentsFieldsAreChecked() {
    List<String> problems = problems("""
        duration: 60s
        hypervisor:
          memory: 64MiB
          sample-gains: {fast: 0.1, slow: 0.5}
          policy-period: 0s
        guests:
          - name: a
            memory: 32MiB
            min: 8MiB
            workload: hotset:footprint=8MiB,schedule=busy:10s
            tau: 1.5
            balloon-target: 30MiB
          - {name: b, memory: 32MiB, workload: idle:footprint=8MiB, tau: NaN}
        schedule:
          - {at: 5s, action: tau, tau: 0.995}
          - {at: 6s, action: tau, vm: b, tau: 0.5}
          - {at: 7s, action: tau}
          - {at: 8s, action: tau, vm: a, tau: 0.5, target: 3MiB}
        """);
    assertEquals(List.of(
        "scenarios/t.yaml:4: hypervisor.sample-gains.slow: 0.5 must be more than 0 and at most fast (0.1)",
        "scenarios/t.yaml:5: hypervisor.policy-period: 0ms must be more than 0 and at most 24h",
        "scenarios/t.yaml:10: guests[0].workload: workload option schedule: entry 1 'busy:10s' must be "
            + "active:DURATION or idle:DURATION, such as schedule=idle:30s/active:60s",
        "scenarios/t.yaml:11: guests[0].tau: 1.5 must be from 0 to 0.99",
        "scenarios/t.yaml:12: guests[0].balloon-target: 30MiB is more than the guest's memory 32MiB minus its min 8MiB",
        "scenarios/t.yaml:13: guests[1].tau: NaN must be from 0 to 0.99",
        "scenarios/t.yaml:15: schedule[0].tau: 0.995 must be from 0 to 0.99",
        "scenarios/t.yaml:17: schedule[2].tau: missing",
        "scenarios/t.yaml:18: schedule[3].target: unknown key"),
        problems.stream().map(p -> p.replaceAll(" \\(known here: .*\\)$", ""))
            .sorted(Comparator.comparingInt(p -> Integer.parseInt(p.split(":")[1]))).toList());
  }

  @Test
  void theLabClockFieldsReachTheHypervisor() throws ScenarioException {
    Scenario s = parse("""
        duration: 5m
        hypervisor:
          memory: 64MiB
          pace: 0.5X
          quantum: 20ms
          straggler-grace: 2m
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB}
        """);
    assertEquals(new ClockSpec(true, Duration.ofMillis(20), "0.5x", Duration.ofMinutes(2)), s.hypervisor().clock());
    assertEquals(List.of("--memory", "64MiB", "--lab-clock", "lockstep", "--quantum", "20ms", "--pace", "0.5x",
        "--straggler-grace", "120000ms"), s.hypervisor().flags());
    Scenario free = parse("""
        duration: 5s
        hypervisor: {memory: 64MiB, lab-clock: free}
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB}
        """);
    assertFalse(free.hypervisor().clock().lockstep());
    assertEquals(List.of("--memory", "64MiB", "--lab-clock", "free", "--pace", "max"), free.hypervisor().flags());
  }

  @Test
  void theLabClockFieldsAreChecked() {
    List<String> problems = problems("""
        duration: 5s
        hypervisor:
          memory: 64MiB
          pace: fast
          quantum: 15s
          straggler-grace: 0s
          lab-clock: sometimes
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB}
        """);
    assertEquals(List.of(
        "scenarios/t.yaml:4: hypervisor.pace: \"fast\" is not a pace: a pace is max or a factor such as 1x or 0.5x, "
            + "got 'fast'",
        "scenarios/t.yaml:5: hypervisor.quantum: 15000ms must be from 1ms to 10s",
        "scenarios/t.yaml:6: hypervisor.straggler-grace: 0s must be more than 0 and at most 24h",
        "scenarios/t.yaml:7: hypervisor.lab-clock: \"sometimes\" is not one of lockstep, free"),
        problems.stream().sorted().toList());
    assertEquals(List.of(
        "scenarios/t.yaml:2: hypervisor.quantum: has no effect with lab-clock: free (the hypervisor runs on wall "
            + "time)",
        "scenarios/t.yaml:2: hypervisor.pace: has no effect with lab-clock: free (the hypervisor runs on wall time)"),
        problems("""
        duration: 5s
        hypervisor: {memory: 64MiB, lab-clock: free, quantum: 10ms, pace: 0x}
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB}
        """).stream().filter(p -> p.contains("no effect")).toList());
  }

  static Stream<List<String>> mistakes() {
    // Each: the line to put in place of a line of a small good file, the expected "line: field: text" start.
    return Stream.of(
        List.of("    memory: 12XB", "5: guests[0].memory: \"12XB\" is not a size (use 512MiB, 4GiB)"),
        List.of("    memroy: 12MiB", "5: guests[0].memroy: unknown key"),
        List.of("    translation: hybrid", "5: guests[0].translation: \"hybrid\" is not one of nested, shadow"),
        List.of("    workload: hotset:footprint=lots", "5: guests[0].workload: "),
        List.of("    workload: [idle:footprint=1MiB, uniform:footprint=x]", "5: guests[0].workload[1]: "),
        List.of("    workload: []", "5: guests[0].workload: expected at least one workload"),
        List.of("    balloon: sometimes", "5: guests[0].balloon: \"sometimes\" is not a driver mode"),
        List.of("    shares: -3", "5: guests[0].shares: -3 must be from 1 to"),
        List.of("    seed: one", "5: guests[0].seed: \"one\" is not a whole number"),
        List.of("    autostart: maybe", "5: guests[0].autostart: \"maybe\" is not true or false"));
  }

  @ParameterizedTest
  @MethodSource("mistakes")
  void eachMistakeNamesFileLineAndField(List<String> mistake) {
    String yaml = """
        duration: 10s
        hypervisor: {memory: 64MiB}
        guests:
          - name: vm1
            seed: 1
            memory: 32MiB
            workload: uniform:footprint=16MiB
        """.replace("    seed: 1", mistake.get(0));
    List<String> problems = problems(yaml);
    assertTrue(problems.stream().anyMatch(p -> p.startsWith("scenarios/t.yaml:" + mistake.get(1))),
        "expected scenarios/t.yaml:" + mistake.get(1) + "... in " + problems);
  }

  @Test
  void missingFieldsAndBadSectionsAreNamed() {
    List<String> problems = problems("""
        hypervisor:
          listen: nowhere
        guests:
          - name: vm1
            workload: uniform:footprint=16MiB
          - just a string
        schedule: {at: 3s}
        extra: 1
        """);
    assertEquals(List.of(
        "scenarios/t.yaml:1: duration: missing",
        "scenarios/t.yaml:2: hypervisor.memory: missing",
        "scenarios/t.yaml:2: hypervisor.listen: \"nowhere\" is not an address (use host:port, such as "
            + "0.0.0.0:7400): ",
        "scenarios/t.yaml:4: guests[0].memory: missing; every guest needs its configured memory (memory or max), "
            + "such as 256MiB",
        "scenarios/t.yaml:6: guests[1]: each item must be a map of key: value, got \"just a string\"",
        "scenarios/t.yaml:7: schedule: expected a list (items starting with '- '), got a map",
        "scenarios/t.yaml:8: extra: unknown key"),
        problems.stream().map(p -> p.replaceAll("(is not an address \\(.*\\): ).*", "$1")
            .replaceAll(" \\(known here: .*\\)$", "")).toList());
  }

  @Test
  void scheduleIsCheckedAgainstTheGuestsAndTheRun() {
    List<String> problems = problems("""
        duration: 10s
        hypervisor: {memory: 64MiB}
        guests:
          - {name: vm1, memory: 32MiB, workload: "idle:footprint=8MiB"}
          - {name: vm1, memory: 32MiB, workload: "idle:footprint=8MiB"}
        schedule:
          - {at: 2s, action: driver, vm: vm9, mode: disabled}
          - {at: 12s, action: poweroff, vm: vm1}
          - {at: 1s, action: start, vm: vm1}
          - {at: 1s, action: balloon, vm: vm1, target: 1GiB}
          - {at: 1s, action: reboot, vm: vm1}
          - {at: soon, action: kill, vm: vm1}
        """);
    assertEquals(List.of(
        "scenarios/t.yaml:5: guests[1].name: \"vm1\" is used by another guest; names must be unique",
        "scenarios/t.yaml:7: schedule[0].vm: \"vm9\" is not one of the guests (vm1)",
        "scenarios/t.yaml:8: schedule[1].at: 12.0s is not before the end of the run (duration 10s)",
        "scenarios/t.yaml:9: schedule[2].action: vm1 starts at the beginning; give it autostart: false to start "
            + "it later",
        "scenarios/t.yaml:10: schedule[3].target: 1GiB is more than vm1's memory (32MiB)",
        "scenarios/t.yaml:11: schedule[4].action: \"reboot\" is not one of driver, balloon, poweroff, kill, start, tau",
        "scenarios/t.yaml:12: schedule[5].at: \"soon\" is not a duration (use 500ms, 30s, 2m)"), problems);
  }

  @Test
  void brokenYamlAndEmptyFilesSayWhere() {
    assertEquals(List.of("scenarios/t.yaml:1: the file is empty; a scenario needs at least a hypervisor and a guest"),
        problems(""));
    List<String> broken = problems("duration: 10s\nhypervisor: {memory: 64MiB\nguests: []\n");
    assertEquals(1, broken.size());
    assertTrue(broken.get(0).matches("scenarios/t\\.yaml:\\d+: not valid YAML: .*"), broken.toString());
    assertTrue(problems("duration: 1s\nduration: 2s\nhypervisor: {memory: 64MiB}\nguests: []\n")
        .contains("scenarios/t.yaml:2: duration: given twice"));
  }

  @Test
  void everyShippedScenarioParses() throws IOException, ScenarioException {
    Path dir = Path.of("..", "scenarios");
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertTrue(files.size() >= 4, "shipped scenarios: " + files);
    for (Path f : files) {
      Scenario s = ScenarioParser.parse(f);
      assertFalse(s.guests().isEmpty(), f.toString());
      assertTrue(Files.readString(f).startsWith("#"), f + " starts with a header comment saying what to look at");
    }
  }

  @Test
  void theSharingBlockReachesTheHypervisorsFlags() throws ScenarioException {
    Scenario s = parse("""
        duration: 5s
        hypervisor:
          memory: 64MiB
          sharing: {enabled: true, scan-rate: 500, scan-max: 4000, share-before-paging: false}
          cost: {copy-frame: 1500, share-scan: 0}
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB}
        """);
    assertEquals(List.of("--memory", "64MiB", "--cost", "copy-frame=1500", "--cost", "share-scan=0", "--lab-clock", "lockstep", "--pace",
        "max", "--page-sharing", "--share-scan-rate", "500", "--share-scan-max", "4000", "--no-share-before-paging"),
        s.hypervisor().flags());
  }

  @Test
  void theSharingBlockIsChecked() {
    List<String> problems = problems("""
        duration: 5s
        hypervisor:
          memory: 64MiB
          sharing: {scan-rate: 0, scan-max: lots, often: yes}
        guests:
          - {name: a, memory: 32MiB, workload: idle:footprint=8MiB}
        """);
    assertEquals(4, problems.size(), problems.toString());
    String all = String.join("\n", problems);
    for (String key : List.of("sharing.enabled", "sharing.scan-rate", "sharing.scan-max", "sharing.often")) {
      assertTrue(all.contains("hypervisor." + key), key + " in " + all);
    }
  }
}
