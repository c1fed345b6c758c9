package org.balloonlab.lab.scenario;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.lab.DriverModes;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.MemorySize;
import org.balloonlab.units.SimDuration;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Reads a scenario file (YAML) into a {@link Scenario}, checking every field.
 *
 * <p>The file is composed into YAML nodes, not loaded into maps, because nodes keep where they were written:
 * every problem is reported as {@code file:line: field: what is wrong}, with the field's path
 * ({@code guests[1].memory}). Unknown keys are errors (a misspelt key would otherwise be silently ignored), and
 * all problems are collected before failing, so one run lists everything to fix.
 *
 * <pre>
 * name: overcommit                 # optional, names the run's folder (default: the file's name)
 * description: what to look at     # optional
 * duration: 30s
 * hypervisor:
 *   memory: 256MiB
 *   listen: 127.0.0.1:0            # optional; port 0 takes a free port
 *   host-swap: 1GiB                # optional
 *   policy: esx                    # optional: esx | manual, with tau, sample-pages, sample-period, free: {...},
 *                                  # balloon-stall-timeout
 *   seed: 1                        # optional
 * guests:
 *   - name: vm1
 *     memory: 192MiB               # or max; min, shares, translation (nested | shadow), processes, seed
 *     workload: hotset:footprint=160MiB    # or a map: {type: hotset, footprint: 160MiB, hot: 0.25}
 *     balloon: enabled             # the driver's mode at boot
 *     autostart: true              # false: started by a scheduled start
 * schedule:
 *   - {at: 10s, action: driver, vm: vm1, mode: disabled}
 *   - {at: 15s, action: balloon, vm: vm1, target: 64MiB}
 *   - {at: 20s, action: poweroff | kill | start, vm: vm1}
 * report: {interval: 1s, plots: true, dir: runs}
 * </pre>
 */
public final class ScenarioParser {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Duration MAX_DURATION = Duration.ofHours(24);

  private final String file;
  private final List<Problem> problems = new ArrayList<>();

  private record Problem(int line, String text) {
  }

  private ScenarioParser(String file) {
    this.file = file;
  }

  /** Reads and checks a scenario file. @throws ScenarioException listing every problem found */
  public static Scenario parse(Path path) throws ScenarioException, IOException {
    String text = Files.readString(path, StandardCharsets.UTF_8);
    String name = path.getFileName().toString().replaceFirst("\\.ya?ml$", "");
    return parse(new StringReader(text), path.toString(), name);
  }

  /**
   * Reads and checks a scenario.
   *
   * @param source names the file in messages
   * @param defaultName the scenario's name if it gives none
   */
  public static Scenario parse(Reader reader, String source, String defaultName) throws ScenarioException {
    return new ScenarioParser(source).read(reader, defaultName);
  }

  private Scenario read(Reader reader, String defaultName) throws ScenarioException {
    Optional<Node> root;
    try {
      root = new Compose(LoadSettings.builder().setLabel(file).setAllowDuplicateKeys(true).build())
          .composeReader(reader);
    } catch (MarkedYamlEngineException e) {
      int line = e.getProblemMark().or(e::getContextMark).map(m -> m.getLine() + 1).orElse(1);
      throw new ScenarioException(List.of(file + ":" + line + ": not valid YAML: " + e.getProblem()));
    } catch (YamlEngineException e) {
      throw new ScenarioException(List.of(file + ":1: not valid YAML: " + e.getMessage()));
    }
    if (root.isEmpty()) {
      throw new ScenarioException(List.of(file + ":1: the file is empty; a scenario needs at least a hypervisor "
          + "and a guest"));
    }
    Fields top = fields(root.get(), "", "the scenario");
    if (top == null) {
      throw failure();
    }
    String name = top.string("name", false, null);
    if (name != null && !NAME.matcher(name).matches()) {
      top.problem("name", "\"" + name + "\" must be 1-64 characters of letters, digits, '.', '_' or '-'");
    }
    String description = top.string("description", false, "");
    Duration duration = top.duration("duration", true, null);
    if (duration != null && (duration.isZero() || duration.compareTo(MAX_DURATION) > 0)) {
      top.problem("duration", duration.toSeconds() + "s must be more than 0 and at most 24h");
    }
    HypervisorSpec hypervisor = top.nested("hypervisor", true, this::hypervisor);
    List<GuestSpec> guests = top.list("guests", true, this::guest, new ArrayList<>());
    if (guests != null && guests.isEmpty()) {
      top.problem("guests", "a scenario needs at least one guest");
    }
    // The actions that could be read are checked against the guests even if others could not.
    List<ScheduledAction> readable = new ArrayList<>();
    List<ScheduledAction> actions = top.list("schedule", false, this::action, readable);
    Scenario.ReportSpec report = top.nested("report", false, this::report);
    top.finish();
    if (guests != null) {
      checkGuestNames(top, guests);
      checkActions(guests, readable, duration);
    }
    if (!problems.isEmpty()) {
      throw failure();
    }
    List<ScheduledAction> sorted = new ArrayList<>(actions == null ? List.of() : actions);
    sorted.sort(Comparator.comparing(ScheduledAction::at));
    return new Scenario(name != null ? name : defaultName, file, description, hypervisor, List.copyOf(guests),
        List.copyOf(sorted), duration, report == null ? Scenario.ReportSpec.DEFAULT : report);
  }

  private HypervisorSpec hypervisor(Fields f) {
    MemorySize memory = f.size("memory", true);
    HostPort listen = f.parsed("listen", false, "an address", "use host:port, such as 0.0.0.0:7400",
        HostPort::parse);
    MemorySize hostSwap = f.size("host-swap", false);
    String policy = f.choice("policy", false, List.of("esx", "manual"));
    Double tau = f.number("tau", false, 0, 0.99);
    Long samplePages = f.integer("sample-pages", false, 1, 1_000_000);
    Duration samplePeriod = f.duration("sample-period", false, null);
    Double[] free = new Double[4];
    Fields thresholds = f.map("free", false);
    if (thresholds != null) {
      String[] names = {"high", "soft", "hard", "low"};
      for (int i = 0; i < names.length; i++) {
        free[i] = thresholds.number(names[i], false, 0, 100);
      }
      thresholds.finish();
      for (int i = 1; i < names.length; i++) {
        if (free[i - 1] != null && free[i] != null && free[i] > free[i - 1]) {
          thresholds.problem(names[i], free[i] + "% is above " + names[i - 1] + " (" + free[i - 1]
              + "%); thresholds go down from high to low");
        }
      }
    }
    Long seed = f.integer("seed", false, Long.MIN_VALUE, Long.MAX_VALUE);
    Duration stall = f.duration("balloon-stall-timeout", false, null);
    f.finish();
    if (memory == null) {
      return null;
    }
    return new HypervisorSpec(memory, listen, hostSwap, policy, tau,
        samplePages == null ? null : samplePages.intValue(), samplePeriod, free[0], free[1], free[2], free[3], seed,
        stall);
  }

  private GuestSpec guest(Fields f) {
    String name = f.string("name", true, null);
    if (name != null && !NAME.matcher(name).matches()) {
      f.problem("name", "\"" + name + "\" must be 1-64 characters of letters, digits, '.', '_' or '-'");
    }
    MemorySize memory = f.size("memory", false);
    MemorySize max = f.size("max", false);
    if (!f.has("memory") && !f.has("max")) {
      f.problem("memory", "missing; every guest needs its configured memory (memory or max), such as 256MiB");
    } else if (memory != null && max != null && memory.bytes() != max.bytes()) {
      f.problem("max", max + " differs from memory " + memory + "; max is the configured size, give one of them");
    }
    MemorySize size = memory != null ? memory : max;
    MemorySize min = f.size("min", false);
    if (min != null && size != null && min.bytes() > size.bytes()) {
      f.problem("min", min + " is more than the guest's memory " + size);
    }
    Long shares = f.integer("shares", false, 1, 1_000_000_000);
    String translation = f.choice("translation", false, List.of("nested", "shadow"));
    List<String> workload = f.workloads("workload");
    Long processes = f.integer("processes", false, 1, 256);
    String balloon = f.parsed("balloon", false, "a driver mode", null, text -> {
          DriverModes.parse(text);
          return text.trim().toLowerCase(Locale.ROOT);
        });
    Long seed = f.integer("seed", false, Long.MIN_VALUE, Long.MAX_VALUE);
    Boolean autostart = f.bool("autostart", false);
    f.finish();
    if (name == null || size == null || workload == null) {
      return null;
    }
    return new GuestSpec(name, size, min, shares == null ? null : shares.intValue(), translation, workload,
        processes == null ? null : processes.intValue(), balloon, seed, autostart == null || autostart);
  }

  private ScheduledAction action(Fields f) {
    Duration at = f.duration("at", true, Duration.ZERO);
    String kindText = f.choice("action", true, List.of("driver", "balloon", "poweroff", "kill", "start"));
    String vm = f.string("vm", true, null);
    String argument = "";
    ScheduledAction.Kind kind = kindText == null ? null : ScheduledAction.Kind.valueOf(kindText.toUpperCase(
        Locale.ROOT));
    if (kind == ScheduledAction.Kind.DRIVER) {
      argument = f.parsed("mode", true, "a driver mode", null, text -> {
            DriverModes.parse(text);
            return text.trim().toLowerCase(Locale.ROOT);
          });
    } else if (kind == ScheduledAction.Kind.BALLOON) {
      MemorySize target = f.size("target", true);
      argument = target == null ? null : target.toString();
    }
    f.finish();
    if (at == null || kind == null || vm == null || argument == null) {
      return null;
    }
    return new ScheduledAction(at, kind, vm, argument, f.line);
  }

  private Scenario.ReportSpec report(Fields f) {
    Duration interval = f.duration("interval", false, Scenario.ReportSpec.DEFAULT.sampleInterval());
    if (interval != null && (interval.toMillis() < 100 || interval.toSeconds() > 60)) {
      f.problem("interval", interval.toMillis() + "ms must be from 100ms to 60s");
    }
    Boolean plots = f.bool("plots", false);
    String dir = f.string("dir", false, Scenario.ReportSpec.DEFAULT.directory());
    f.finish();
    return new Scenario.ReportSpec(interval == null ? Scenario.ReportSpec.DEFAULT.sampleInterval() : interval,
        plots == null || plots, dir == null ? Scenario.ReportSpec.DEFAULT.directory() : dir);
  }

  private void checkGuestNames(Fields top, List<GuestSpec> guests) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < guests.size(); i++) {
      if (!seen.add(guests.get(i).name())) {
        top.problemAt(top.lineOfListItem("guests", i), "guests[" + i + "].name", "\"" + guests.get(i).name()
            + "\" is used by another guest; names must be unique");
      }
    }
  }

  private void checkActions(List<GuestSpec> guests, List<ScheduledAction> actions, Duration duration) {
    Map<String, GuestSpec> byName = new LinkedHashMap<>();
    guests.forEach(g -> byName.putIfAbsent(g.name(), g));
    for (int i = 0; i < actions.size(); i++) {
      ScheduledAction a = actions.get(i);
      String field = "schedule[" + i + "]";
      GuestSpec g = byName.get(a.vm());
      if (g == null) {
        problems.add(new Problem(a.line(), field + ".vm: \"" + a.vm() + "\" is not one of the guests ("
            + String.join(", ", byName.keySet()) + ")"));
        continue;
      }
      if (duration != null && a.at().compareTo(duration) >= 0) {
        problems.add(new Problem(a.line(), field + ".at: " + a.at().toMillis() / 1000.0 + "s is not before the "
            + "end of the run (duration " + duration.toSeconds() + "s)"));
      }
      if (a.kind() == ScheduledAction.Kind.START && g.autostart()) {
        problems.add(new Problem(a.line(), field + ".action: " + g.name() + " starts at the beginning; give it "
            + "autostart: false to start it later"));
      }
      if (a.kind() == ScheduledAction.Kind.BALLOON
          && MemorySize.parse(a.argument()).bytes() > g.memory().bytes()) {
        problems.add(new Problem(a.line(), field + ".target: " + a.argument() + " is more than " + g.name()
            + "'s memory (" + g.memory() + ")"));
      }
    }
  }

  private ScenarioException failure() {
    List<Problem> sorted = new ArrayList<>(problems);
    sorted.sort(Comparator.comparingInt(Problem::line));
    return new ScenarioException(sorted.stream().map(p -> file + ":" + p.line() + ": " + p.text()).toList());
  }

  private static int line(Node node) {
    return node.getStartMark().map(Mark::getLine).orElse(0) + 1;
  }

  private static String describe(Node node) {
    if (node instanceof ScalarNode s) {
      return "\"" + s.getValue() + "\"";
    }
    return node instanceof MappingNode ? "a map" : "a list";
  }

  /** A mapping node being read field by field; remembers which keys were read so the rest can be refused. */
  private Fields fields(Node node, String path, String what) {
    if (!(node instanceof MappingNode m)) {
      problems.add(new Problem(line(node), (path.isEmpty() ? "" : path + ": ") + what + " must be a map of "
          + "key: value, got " + describe(node)));
      return null;
    }
    return new Fields(m, path);
  }

  private final class Fields {
    final Map<String, NodeTuple> entries = new LinkedHashMap<>();
    final Set<String> read = new HashSet<>();
    final String path;
    final int line;
    Fields(MappingNode node, String path) {
      this.path = path;
      this.line = line(node);
      for (NodeTuple t : node.getValue()) {
        if (!(t.getKeyNode() instanceof ScalarNode k)) {
          problems.add(new Problem(line(t.getKeyNode()), name("") + "keys must be plain words"));
          continue;
        }
        if (entries.putIfAbsent(k.getValue(), t) != null) {
          problems.add(new Problem(line(k), name(k.getValue()) + ": given twice"));
        }
      }
    }

    String name(String key) {
      return path.isEmpty() ? key : key.isEmpty() ? path + ": " : path + "." + key;
    }

    void problem(String key, String text) {
      NodeTuple t = entries.get(key);
      problemAt(t == null ? line : line(t.getValueNode()), name(key), text);
    }

    void problemAt(int at, String field, String text) {
      problems.add(new Problem(at, field + ": " + text));
    }

    int lineOfListItem(String key, int index) {
      NodeTuple t = entries.get(key);
      if (t != null && t.getValueNode() instanceof SequenceNode s && index < s.getValue().size()) {
        return line(s.getValue().get(index));
      }
      return line;
    }

    boolean has(String key) {
      return entries.containsKey(key);
    }

    /** The key's node, or null (with a problem if it is required). */
    Node node(String key, boolean required) {
      read.add(key);
      NodeTuple t = entries.get(key);
      if (t == null) {
        if (required) {
          problems.add(new Problem(line, name(key) + ": missing"));
        }
        return null;
      }
      return t.getValueNode();
    }

    /** The key's scalar text, or null. */
    String scalar(String key, boolean required, String expected) {
      Node n = node(key, required);
      if (n == null) {
        return null;
      }
      if (!(n instanceof ScalarNode s) || s.getValue().isBlank()) {
        problems.add(new Problem(line(n), name(key) + ": expected " + expected + ", got "
            + (n instanceof ScalarNode ? "nothing" : describe(n))));
        return null;
      }
      return s.getValue().trim();
    }

    <T> T parsed(String key, boolean required, String expected, String hint, Function<String, T> parser) {
      String text = scalar(key, required, expected);
      if (text == null) {
        return null;
      }
      try {
        return parser.apply(text);
      } catch (IllegalArgumentException e) {
        problems.add(new Problem(line(node(key, false)), name(key) + ": \"" + text + "\" is not " + expected
            + (hint == null ? "" : " (" + hint + ")") + ": " + e.getMessage()));
        return null;
      }
    }

    String string(String key, boolean required, String fallback) {
      String s = scalar(key, required, "a word");
      return s == null ? fallback : s;
    }

    MemorySize size(String key, boolean required) {
      Node n = node(key, required);
      String text = scalar(key, false, "a size");
      if (text == null) {
        return null;
      }
      try {
        MemorySize size = MemorySize.parse(text);
        if (size.bytes() == 0 && !key.equals("target")) {
          problems.add(new Problem(line(n), name(key) + ": must be more than 0"));
          return null;
        }
        if (size.bytes() % 4096 != 0) {
          problems.add(new Problem(line(n), name(key) + ": \"" + text + "\" is not a whole number of 4 KiB pages"));
          return null;
        }
        return size;
      } catch (IllegalArgumentException e) {
        problems.add(new Problem(line(n), name(key) + ": \"" + text + "\" is not a size (use 512MiB, 4GiB)"));
        return null;
      }
    }

    Duration duration(String key, boolean required, Duration fallback) {
      Node n = node(key, required);
      String text = scalar(key, false, "a duration");
      if (text == null) {
        return n == null && !required ? fallback : null;
      }
      try {
        Duration d = SimDuration.parse(text);
        if (d.isNegative()) {
          throw new IllegalArgumentException("negative");
        }
        return d;
      } catch (RuntimeException e) {
        problems.add(new Problem(line(n), name(key) + ": \"" + text + "\" is not a duration (use 500ms, 30s, 2m)"));
        return null;
      }
    }

    Double number(String key, boolean required, double min, double max) {
      Node n = node(key, required);
      String text = scalar(key, false, "a number");
      if (text == null) {
        return null;
      }
      double v;
      try {
        v = Double.parseDouble(text.endsWith("%") ? text.substring(0, text.length() - 1) : text);
      } catch (NumberFormatException e) {
        problems.add(new Problem(line(n), name(key) + ": \"" + text + "\" is not a number"));
        return null;
      }
      if (!(v >= min && v <= max)) {
        problems.add(new Problem(line(n), name(key) + ": " + text + " must be from " + fmt(min) + " to "
            + fmt(max)));
        return null;
      }
      return v;
    }

    Long integer(String key, boolean required, long min, long max) {
      Node n = node(key, required);
      String text = scalar(key, false, "a whole number");
      if (text == null) {
        return null;
      }
      long v;
      try {
        v = Long.parseLong(text);
      } catch (NumberFormatException e) {
        problems.add(new Problem(line(n), name(key) + ": \"" + text + "\" is not a whole number"));
        return null;
      }
      if (v < min || v > max) {
        problems.add(new Problem(line(n), name(key) + ": " + v + " must be from " + min + " to " + max));
        return null;
      }
      return v;
    }

    Boolean bool(String key, boolean required) {
      Node n = node(key, required);
      String text = scalar(key, false, "true or false");
      if (text == null) {
        return null;
      }
      return switch (text.toLowerCase(Locale.ROOT)) {
        case "true", "yes", "on" -> true;
        case "false", "no", "off" -> false;
        default -> {
          problems.add(new Problem(line(n), name(key) + ": \"" + text + "\" is not true or false"));
          yield null;
        }
      };
    }

    String choice(String key, boolean required, List<String> allowed) {
      Node n = node(key, required);
      String text = scalar(key, false, "one of " + String.join(", ", allowed));
      if (text == null) {
        return null;
      }
      String v = text.toLowerCase(Locale.ROOT);
      if (!allowed.contains(v)) {
        problems.add(new Problem(line(n), name(key) + ": \"" + text + "\" is not one of "
            + String.join(", ", allowed)));
        return null;
      }
      return v;
    }

    /**
     * A guest's workloads: one, as the guest agent's --workload text or a map of its keys, or a list of them that
     * run side by side; each checked by the guest's parser.
     */
    List<String> workloads(String key) {
      Node n = node(key, true);
      if (n == null) {
        return null;
      }
      if (n instanceof SequenceNode seq) {
        if (seq.getValue().isEmpty()) {
          problems.add(new Problem(line(n), name(key) + ": expected at least one workload"));
          return null;
        }
        List<String> all = new ArrayList<>();
        for (int i = 0; i < seq.getValue().size(); i++) {
          Node item = seq.getValue().get(i);
          if (item instanceof SequenceNode) {
            problems.add(new Problem(line(item), name(key) + "[" + i + "]: expected a workload such as "
                + "hotset:footprint=128MiB, got a list"));
            return null;
          }
          String one = workload(item, name(key) + "[" + i + "]");
          if (one == null) {
            return null;
          }
          all.add(one);
        }
        return List.copyOf(all);
      }
      String one = workload(n, name(key));
      return one == null ? null : List.of(one);
    }

    private String workload(Node n, String label) {
      String spec;
      if (n instanceof ScalarNode s) {
        spec = s.getValue().trim();
      } else if (n instanceof MappingNode m) {
        StringBuilder b = new StringBuilder();
        String type = null;
        List<String> options = new ArrayList<>();
        for (NodeTuple t : m.getValue()) {
          String k = t.getKeyNode() instanceof ScalarNode ks ? ks.getValue() : "?";
          String v;
          if (t.getValueNode() instanceof ScalarNode vs) {
            v = vs.getValue().trim();
          } else if (t.getValueNode() instanceof SequenceNode seq && k.equals("sizes")) {
            List<String> sizes = new ArrayList<>();
            for (Node item : seq.getValue()) {
              sizes.add(item instanceof ScalarNode is ? is.getValue().trim() : "?");
            }
            v = String.join("/", sizes);
          } else {
            problems.add(new Problem(line(t.getValueNode()), label + "." + k + ": expected a value, got "
                + describe(t.getValueNode())));
            return null;
          }
          if (k.equals("type")) {
            type = v;
          } else {
            options.add(k + "=" + v);
          }
        }
        if (type == null) {
          problems.add(new Problem(line(n), label + ".type: missing (sequential, uniform, hotset, phases, "
              + "idle)"));
          return null;
        }
        b.append(type);
        if (!options.isEmpty()) {
          b.append(':').append(String.join(",", options));
        }
        spec = b.toString();
      } else {
        problems.add(new Problem(line(n), label + ": expected a workload such as hotset:footprint=128MiB, "
            + "got a list"));
        return null;
      }
      try {
        WorkloadSpec.parse(spec);
        return spec;
      } catch (IllegalArgumentException e) {
        problems.add(new Problem(line(n), label + ": " + e.getMessage()));
        return null;
      }
    }

    Fields map(String key, boolean required) {
      Node n = node(key, required);
      return n == null ? null : fields(n, name(key), "it");
    }

    <T> T nested(String key, boolean required, Function<Fields, T> reader) {
      Fields f = map(key, required);
      return f == null ? null : reader.apply(f);
    }

    /** A list of maps; {@code null} unless every item could be read, which {@code readable} collects. */
    <T> List<T> list(String key, boolean required, Function<Fields, T> reader, List<T> readable) {
      Node n = node(key, required);
      if (n == null) {
        return null;
      }
      if (!(n instanceof SequenceNode s)) {
        problems.add(new Problem(line(n), name(key) + ": expected a list (items starting with '- '), got "
            + describe(n)));
        return null;
      }
      List<T> out = readable;
      boolean complete = true;
      for (int i = 0; i < s.getValue().size(); i++) {
        Fields item = fields(s.getValue().get(i), name(key) + "[" + i + "]", "each item");
        T value = item == null ? null : reader.apply(item);
        if (value == null) {
          complete = false;
        } else {
          out.add(value);
        }
      }
      return complete ? out : null;
    }

    /** Refuses every key that was not read. */
    void finish() {
      for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
        if (!read.contains(e.getKey())) {
          problems.add(new Problem(line(e.getValue().getKeyNode()), name(e.getKey()) + ": unknown key (known here: "
              + String.join(", ", new java.util.TreeSet<>(read)) + ")"));
        }
      }
    }
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
