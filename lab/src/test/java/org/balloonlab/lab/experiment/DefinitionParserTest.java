package org.balloonlab.lab.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.ScenarioException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DefinitionParserTest {
  @TempDir
  Path dir;

  /** An experiment that needs two runs and computes one metric. */
  private static final Experiment FAKE = new Experiment() {
    @Override
    public String name() {
      return "fake";
    }

    @Override
    public List<String> runs() {
      return List.of("a", "b");
    }

    @Override
    public Map<String, String> metrics() {
      return Map.of("ratio", "a ratio");
    }

    @Override
    public Analysis analyse(ExperimentDefinition def, Map<String, RunResult> runs) {
      throw new UnsupportedOperationException();
    }
  };

  private static final String GOOD = """
      title: A fake
      paper: |
        two lines
        of the paper
      runs:
        - {label: a, scenario: lab.yaml}
        - {label: b, scenario: lab.yaml}
      compare:
        - {quantity: the ratio, paper: "2 : 1", metric: ratio}
        - {quantity: violations, paper: "0", metric: violations, unit: pages}
      verdict:
        matches: ["ratio >= 1.9", "violations == 0"]
        shape: ["ratio > 1"]
      """;

  @BeforeEach
  void scenario() throws IOException {
    Files.writeString(dir.resolve("lab.yaml"), """
        duration: 10s
        hypervisor: {memory: 32MiB}
        guests:
          - {name: vm1, memory: 16MiB, workload: "uniform:footprint=8MiB"}
        """);
  }

  private ExperimentDefinition parse(String yaml) throws ScenarioException {
    return DefinitionParser.parse(yaml, "experiment.yaml", dir, FAKE);
  }

  private List<String> problems(String yaml) {
    ScenarioException e = assertThrows(ScenarioException.class, () -> parse(yaml));
    return e.getMessage().lines().toList();
  }

  @Test
  void aGoodDefinitionIsRead() throws Exception {
    ExperimentDefinition d = parse(GOOD);
    assertEquals("fake", d.name());
    assertEquals("A fake", d.title());
    assertEquals("two lines\nof the paper", d.paper());
    assertEquals(List.of("a", "b"), d.runs().stream().map(ExperimentDefinition.Run::label).toList());
    assertEquals("vm1", d.runs().get(0).scenario().guests().get(0).name());
    assertEquals(new ExperimentDefinition.Row("violations", "0", "violations", "pages"), d.compare().get(1));
    assertEquals(List.of(Criterion.parse("ratio >= 1.9"), Criterion.parse("violations == 0")), d.matches());
    assertEquals(List.of(Criterion.parse("ratio > 1")), d.shape());
  }

  @Test
  void theShippedDefinitionsAreRead() throws Exception {
    Path shipped = Path.of("..", "experiments");
    for (Experiment e : Experiments.all()) {
      ExperimentDefinition d = DefinitionParser.parse(shipped.resolve(e.name()), e);
      assertEquals(e.runs(), d.runs().stream().map(ExperimentDefinition.Run::label).toList(), e.name());
    }
  }

  @Test
  void theShippedPageSharingExperimentReducesToItsFirstGuests() throws Exception {
    ExperimentDefinition full = DefinitionParser.parse(Path.of("..", "experiments", "page-sharing"),
        new PageSharingBestCase());
    assertEquals(10, full.fewestGuests());
    assertFalse(full.reduced());
    ExperimentDefinition three = full.reducedTo(3);
    assertTrue(three.reduced());
    assertEquals(3, three.vms());
    // The series starts a guest every 3 s, so three guests end where the fourth would start; mixed keeps its 20 s.
    assertEquals(Duration.ofSeconds(9), three.run("series").scenario().duration());
    assertEquals(List.of("vm1", "vm2", "vm3"), three.run("series").scenario().guests().stream()
        .map(GuestSpec::name).toList());
    assertEquals(Duration.ofSeconds(20), three.run("mixed").scenario().duration());
    assertEquals(3, three.run("mixed").scenario().guests().size());
    assertEquals(full.matches(), three.matches());
    assertThrows(IllegalArgumentException.class, () -> full.reducedTo(11));
  }

  @Test
  void everyProblemIsListedWithItsField() {
    List<String> p = problems("""
        title: x
        paper: y
        colour: blue
        runs:
          - {label: a, scenario: lab.yaml}
          - {label: c, scenario: lab.yaml}
          - {label: a, scenario: lab.yaml}
        compare:
          - {quantity: q, paper: p, metric: speed}
        verdict:
          matches: ["ratio >> 2", "speed > 1"]
          shape: []
        """);
    assertTrue(p.contains("experiment.yaml: \"colour\": unknown key; use compare, paper, runs, scaling, title, "
        + "verdict"), p.toString());
    assertTrue(p.contains("experiment.yaml: runs[1].label: \"c\" is not a run of fake ([a, b])"), p.toString());
    assertTrue(p.contains("experiment.yaml: runs[2].label: \"a\" is given twice"), p.toString());
    assertTrue(p.contains("experiment.yaml: runs: no run labelled \"b\"; fake needs [a, b]"), p.toString());
    assertTrue(p.contains("experiment.yaml: compare[0].metric: \"speed\" is not a metric of this experiment "
        + "(ratio, reproducible, violations)"), p.toString());
    assertTrue(p.stream().anyMatch(l -> l.startsWith("experiment.yaml: verdict.matches[0]: \"ratio >> 2\" is not "
        + "METRIC OP NUMBER")), p.toString());
    assertTrue(p.contains("experiment.yaml: verdict.matches[1]: \"speed\" is not a metric of this experiment "
        + "(ratio, reproducible, violations)"), p.toString());
    assertTrue(p.contains("experiment.yaml: verdict.shape: missing or empty: give a list of criteria METRIC OP "
        + "NUMBER"), p.toString());
  }

  @Test
  void missingPartsAreNamed() {
    List<String> p = problems("title: x\n");
    assertTrue(p.contains("experiment.yaml: paper: missing"), p.toString());
    assertTrue(p.stream().anyMatch(l -> l.startsWith("experiment.yaml: runs: missing or empty")), p.toString());
    assertTrue(p.stream().anyMatch(l -> l.startsWith("experiment.yaml: compare: missing or empty")), p.toString());
    assertTrue(p.stream().anyMatch(l -> l.startsWith("experiment.yaml: verdict: missing or not a mapping")),
        p.toString());
  }

  @Test
  void aScenarioThatCannotRunIsReportedWithItsOwnProblems() throws IOException {
    Files.writeString(dir.resolve("bad.yaml"), "duration: 10s\nhypervisor: {memory: 12XB}\nguests: []\n");
    List<String> p = problems(GOOD.replace("{label: b, scenario: lab.yaml}", "{label: b, scenario: bad.yaml}"));
    assertTrue(p.stream().anyMatch(l -> l.startsWith("experiment.yaml: runs[1].scenario: ")
        && l.contains("hypervisor.memory")), p.toString());
    List<String> missing = problems(GOOD.replace("{label: b, scenario: lab.yaml}", "{label: b, scenario: no.yaml}"));
    assertTrue(missing.stream().anyMatch(l -> l.startsWith("experiment.yaml: runs[1].scenario: cannot read")),
        missing.toString());
    List<String> outside = problems(GOOD.replace("{label: b, scenario: lab.yaml}",
        "{label: b, scenario: ../../etc/x.yaml}"));
    assertTrue(outside.contains("experiment.yaml: runs[1].scenario: \"../../etc/x.yaml\" is outside the "
        + "experiment's directory"), outside.toString());
  }

  @Test
  void notYamlOrNotAMappingIsSaidSo() {
    assertTrue(problems("title: [unclosed\n").get(0).startsWith("experiment.yaml: not valid YAML"));
    assertTrue(problems("- a\n- b\n").get(0).startsWith("experiment.yaml: an experiment's definition is a "
        + "mapping"));
  }

  @Test
  void aMissingDefinitionFileIsNamed() throws IOException {
    Path empty = Files.createDirectory(dir.resolve("empty"));
    ScenarioException e = assertThrows(ScenarioException.class, () -> DefinitionParser.parse(empty, FAKE));
    assertTrue(e.getMessage().contains("missing: an experiment's directory holds its definition in experiment.yaml"),
        e.getMessage());
  }
}
