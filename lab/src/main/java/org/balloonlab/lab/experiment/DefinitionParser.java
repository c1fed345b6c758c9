package org.balloonlab.lab.experiment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.balloonlab.lab.scenario.ScenarioException;
import org.balloonlab.lab.scenario.ScenarioParser;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Reads and checks {@code experiments/NAME/experiment.yaml} against the experiment's class, collecting every
 * problem before failing (as {@link ScenarioParser} does for scenarios):
 *
 * <pre>
 * title: Idle memory tax (Fig. 7)
 * paper: |                     # the paper's figure or text, printed beside the simulator's
 *   ...
 * scaling: |                   # optional: how the lab is scaled down, and what is kept
 *   ...
 * runs:                        # exactly the runs the experiment's class asks for
 *   - {label: tau-change, scenario: tau-change.yaml}
 * compare:                     # the comparison table's rows: the paper's value beside a metric's
 *   - {quantity: active VM memory after the change, paper: "more than the idle VM", metric: vm1_after_mib, unit: MiB}
 * verdict:                     # criteria METRIC OP NUMBER over the class's metrics
 *   matches: ["speedup >= 1.3"]
 *   shape: ["speedup > 1"]
 * </pre>
 * Unknown keys are errors; metrics must be ones the class computes; scenario files are read and checked too.
 */
public final class DefinitionParser {
  /** The file an experiment's directory holds its definition in. */
  public static final String FILE = "experiment.yaml";
  private static final Set<String> TOP = Set.of("title", "paper", "scaling", "runs", "compare", "verdict");

  private final List<String> problems = new ArrayList<>();
  private final String file;

  private DefinitionParser(String file) {
    this.file = file;
  }

  /**
   * Reads the definition in {@code dir} for {@code experiment}.
   *
   * @throws ScenarioException listing every problem, each as {@code file: field: what is wrong}
   */
  public static ExperimentDefinition parse(Path dir, Experiment experiment) throws ScenarioException, IOException {
    Path path = dir.resolve(FILE);
    if (!Files.isRegularFile(path)) {
      throw new ScenarioException(List.of(path + ": missing: an experiment's directory holds its definition in "
          + FILE));
    }
    return parse(Files.readString(path, StandardCharsets.UTF_8), path.toString(), dir, experiment);
  }

  /** Reads a definition's text; {@code dir} resolves its scenario files. */
  static ExperimentDefinition parse(String yaml, String source, Path dir, Experiment experiment)
      throws ScenarioException {
    return new DefinitionParser(source).read(yaml, dir, experiment);
  }

  private ExperimentDefinition read(String yaml, Path dir, Experiment experiment) throws ScenarioException {
    Object root;
    try {
      root = new Load(LoadSettings.builder().setLabel(file).build()).loadFromString(yaml);
    } catch (YamlEngineException e) {
      throw new ScenarioException(List.of(file + ": not valid YAML: " + e.getMessage().lines().findFirst()
          .orElse("")));
    }
    if (!(root instanceof Map<?, ?> top)) {
      throw new ScenarioException(List.of(file + ": an experiment's definition is a mapping with " + TOP));
    }
    unknownKeys(top, TOP, "");
    String title = text(top, "title", "", true);
    String paper = text(top, "paper", "", true);
    String scaling = text(top, "scaling", "", false);
    List<ExperimentDefinition.Run> runs = runs(top.get("runs"), dir, experiment);
    Set<String> metrics = new HashSet<>(experiment.metrics().keySet());
    metrics.addAll(ExperimentRunner.COMMON_METRICS.keySet());
    List<ExperimentDefinition.Row> rows = rows(top.get("compare"), metrics);
    List<Criterion> matches = List.of();
    List<Criterion> shape = List.of();
    Object verdict = top.get("verdict");
    if (!(verdict instanceof Map<?, ?> v)) {
      problem("verdict", "missing or not a mapping: give verdict: {matches: [...], shape: [...]}, written before "
          + "the experiment runs");
    } else {
      unknownKeys(v, Set.of("matches", "shape"), "verdict.");
      matches = criteria(v.get("matches"), "verdict.matches", metrics);
      shape = criteria(v.get("shape"), "verdict.shape", metrics);
    }
    if (!problems.isEmpty()) {
      throw new ScenarioException(problems);
    }
    return new ExperimentDefinition(experiment.name(), dir, title, paper, scaling, runs, rows, matches, shape);
  }

  private List<ExperimentDefinition.Run> runs(Object node, Path dir, Experiment experiment) {
    List<ExperimentDefinition.Run> runs = new ArrayList<>();
    if (!(node instanceof List<?> items) || items.isEmpty()) {
      problem("runs", "missing or empty: give a {label, scenario} for each of " + experiment.runs());
      return runs;
    }
    Set<String> labels = new LinkedHashSet<>();
    for (int i = 0; i < items.size(); i++) {
      String field = "runs[" + i + "]";
      if (!(items.get(i) instanceof Map<?, ?> m)) {
        problem(field, "not a mapping {label, scenario}");
        continue;
      }
      unknownKeys(m, Set.of("label", "scenario"), field + ".");
      String label = text(m, "label", field + ".", true);
      String scenario = text(m, "scenario", field + ".", true);
      if (label.isEmpty() || scenario.isEmpty()) {
        continue;
      }
      if (!experiment.runs().contains(label)) {
        problem(field + ".label", quote(label) + " is not a run of " + experiment.name() + " (" + experiment.runs()
            + ")");
        continue;
      }
      if (!labels.add(label)) {
        problem(field + ".label", quote(label) + " is given twice");
        continue;
      }
      Path path = dir.resolve(scenario).normalize();
      if (!path.startsWith(dir.normalize())) {
        problem(field + ".scenario", quote(scenario) + " is outside the experiment's directory");
        continue;
      }
      try {
        runs.add(new ExperimentDefinition.Run(label, path, ScenarioParser.parse(path)));
      } catch (ScenarioException e) {
        e.getMessage().lines().forEach(p -> problem(field + ".scenario", p));
      } catch (IOException e) {
        problem(field + ".scenario", "cannot read " + path + ": " + e.getMessage());
      }
    }
    for (String wanted : experiment.runs()) {
      if (!labels.contains(wanted)) {
        problem("runs", "no run labelled " + quote(wanted) + "; " + experiment.name() + " needs " + experiment.runs());
      }
    }
    return runs;
  }

  private List<ExperimentDefinition.Row> rows(Object node, Set<String> metrics) {
    List<ExperimentDefinition.Row> rows = new ArrayList<>();
    if (!(node instanceof List<?> items) || items.isEmpty()) {
      problem("compare", "missing or empty: give the rows {quantity, paper, metric, unit} of the table that sets the "
          + "paper's numbers beside the simulator's");
      return rows;
    }
    for (int i = 0; i < items.size(); i++) {
      String field = "compare[" + i + "]";
      if (!(items.get(i) instanceof Map<?, ?> m)) {
        problem(field, "not a mapping {quantity, paper, metric, unit}");
        continue;
      }
      unknownKeys(m, Set.of("quantity", "paper", "metric", "unit"), field + ".");
      String metric = text(m, "metric", field + ".", true);
      if (!metric.isEmpty() && !metrics.contains(metric)) {
        problem(field + ".metric", quote(metric) + " is not a metric of this experiment (" + sorted(metrics) + ")");
      }
      rows.add(new ExperimentDefinition.Row(text(m, "quantity", field + ".", true), text(m, "paper", field + ".", true),
          metric, text(m, "unit", field + ".", false)));
    }
    return rows;
  }

  private List<Criterion> criteria(Object node, String field, Set<String> metrics) {
    List<Criterion> out = new ArrayList<>();
    if (!(node instanceof List<?> items) || items.isEmpty()) {
      problem(field, "missing or empty: give a list of criteria METRIC OP NUMBER");
      return out;
    }
    for (int i = 0; i < items.size(); i++) {
      String f = field + "[" + i + "]";
      if (!(items.get(i) instanceof String s)) {
        problem(f, "not a text METRIC OP NUMBER");
        continue;
      }
      try {
        Criterion c = Criterion.parse(s);
        if (!metrics.contains(c.metric())) {
          problem(f, quote(c.metric()) + " is not a metric of this experiment (" + sorted(metrics) + ")");
        } else {
          out.add(c);
        }
      } catch (IllegalArgumentException e) {
        problem(f, e.getMessage());
      }
    }
    return out;
  }

  private String text(Map<?, ?> m, String key, String prefix, boolean required) {
    Object v = m.get(key);
    if (v == null) {
      if (required) {
        problem(prefix + key, "missing");
      }
      return "";
    }
    if (v instanceof Map || v instanceof List) {
      problem(prefix + key, "not a text");
      return "";
    }
    return v.toString().strip();
  }

  private void unknownKeys(Map<?, ?> m, Set<String> known, String prefix) {
    for (Object k : m.keySet()) {
      if (!(k instanceof String s) || !known.contains(s)) {
        problem(prefix + quote(String.valueOf(k)), "unknown key; use " + sorted(known));
      }
    }
  }

  private void problem(String field, String text) {
    problems.add(file + ": " + field + ": " + text);
  }

  private static String quote(String s) {
    String t = s.length() > 60 ? s.substring(0, 60) + "..." : s;
    return "\"" + t.replaceAll("\\p{Cntrl}", "?") + "\"";
  }

  private static String sorted(Set<String> s) {
    return String.join(", ", s.stream().sorted().toList());
  }
}
