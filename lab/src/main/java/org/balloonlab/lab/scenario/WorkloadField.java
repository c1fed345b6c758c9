package org.balloonlab.lab.scenario;

import java.util.ArrayList;
import java.util.List;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * A guest's {@code workload} field: one workload, written as the guest agent's {@code --workload} text
 * ({@code hotset:footprint=160MiB}) or as a map of its keys ({@code {type: hotset, footprint: 160MiB}}), or a list
 * of them that run side by side. Each becomes the {@code --workload} text and is checked by the guest's own parser
 * ({@link WorkloadSpec}), so a scenario refuses exactly what the guest agent would.
 */
final class WorkloadField {
  private WorkloadField() {}

  /** The workloads under {@code key}, as {@code --workload} texts, or {@code null} (with a problem). */
  static List<String> read(YamlFields f, String key) {
    Node n = f.node(key, true);
    if (n == null) {
      return null;
    }
    Problems problems = f.problems();
    if (n instanceof SequenceNode seq) {
      if (seq.getValue().isEmpty()) {
        problems.add(YamlFields.lineOf(n), f.name(key) + ": expected at least one workload");
        return null;
      }
      List<String> all = new ArrayList<>();
      for (int i = 0; i < seq.getValue().size(); i++) {
        Node item = seq.getValue().get(i);
        if (item instanceof SequenceNode) {
          problems.add(YamlFields.lineOf(item), f.name(key) + "[" + i + "]: expected a workload such as "
              + "hotset:footprint=128MiB, got a list");
          return null;
        }
        String one = workload(item, f.name(key) + "[" + i + "]", problems);
        if (one == null) {
          return null;
        }
        all.add(one);
      }
      return List.copyOf(all);
    }
    String one = workload(n, f.name(key), problems);
    return one == null ? null : List.of(one);
  }

  private static String workload(Node n, String label, Problems problems) {
    String spec;
    if (n instanceof ScalarNode s) {
      spec = s.getValue().trim();
    } else if (n instanceof MappingNode m) {
      spec = fromMap(m, label, problems);
      if (spec == null) {
        return null;
      }
    } else {
      problems.add(YamlFields.lineOf(n), label + ": expected a workload such as hotset:footprint=128MiB, got a list");
      return null;
    }
    try {
      WorkloadSpec.parse(spec);
      return spec;
    } catch (IllegalArgumentException e) {
      problems.add(YamlFields.lineOf(n), label + ": " + e.getMessage());
      return null;
    }
  }

  /**
   * {@code {type: phases, sizes: [64MiB, 128MiB], loop: true}} as {@code phases:sizes=64MiB/128MiB,loop=true}; a
   * {@code schedule: [idle:30s, active:60s]} list is joined the same way.
   */
  private static String fromMap(MappingNode m, String label, Problems problems) {
    String type = null;
    List<String> options = new ArrayList<>();
    for (NodeTuple t : m.getValue()) {
      String k = t.getKeyNode() instanceof ScalarNode ks ? ks.getValue() : "?";
      String v;
      if (t.getValueNode() instanceof ScalarNode vs) {
        v = vs.getValue().trim();
      } else if (t.getValueNode() instanceof SequenceNode seq && (k.equals("sizes") || k.equals("schedule"))) {
        List<String> sizes = new ArrayList<>();
        for (Node item : seq.getValue()) {
          sizes.add(item instanceof ScalarNode is ? is.getValue().trim() : "?");
        }
        v = String.join("/", sizes);
      } else {
        problems.add(YamlFields.lineOf(t.getValueNode()), label + "." + k + ": expected a value, got "
            + YamlFields.describe(t.getValueNode()));
        return null;
      }
      if (k.equals("type")) {
        type = v;
      } else {
        options.add(k + "=" + v);
      }
    }
    if (type == null) {
      problems.add(YamlFields.lineOf(m), label + ".type: missing (sequential, uniform, hotset, phases, idle)");
      return null;
    }
    return options.isEmpty() ? type : type + ":" + String.join(",", options);
  }
}
