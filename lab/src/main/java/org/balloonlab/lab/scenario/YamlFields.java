package org.balloonlab.lab.scenario;

import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.balloonlab.units.MemorySize;
import org.balloonlab.units.SimDuration;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * A YAML mapping read field by field, each field as the type it must be (a size, a duration, a number in a range,
 * one of some words...). Works on composed nodes rather than loaded maps because nodes keep the line they were
 * written on: a field that is missing or wrong becomes a {@link Problems problem} at that line, named by its path
 * ({@code guests[1].memory}), and the reader answers {@code null} so the caller can go on reading. Keys that were
 * never read are refused by {@link #finish}, so a misspelt key is not silently ignored.
 */
final class YamlFields {
  private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
  private final Set<String> read = new HashSet<>();
  private final Problems problems;
  private final String path;
  private final int line;

  private YamlFields(MappingNode node, String path, Problems problems) {
    this.problems = problems;
    this.path = path;
    this.line = lineOf(node);
    for (NodeTuple t : node.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode k)) {
        problems.add(lineOf(t.getKeyNode()), name("") + "keys must be plain words");
        continue;
      }
      if (entries.putIfAbsent(k.getValue(), t) != null) {
        problems.add(lineOf(k), name(k.getValue()) + ": given twice");
      }
    }
  }

  /**
   * The fields of a mapping node, or {@code null} (with a problem) if the node is not a mapping.
   *
   * @param path the mapping's own path, empty at the top of the file
   * @param what how the problem names the node when it is not a mapping
   */
  static YamlFields of(Node node, String path, String what, Problems problems) {
    if (!(node instanceof MappingNode m)) {
      problems.add(lineOf(node), (path.isEmpty() ? "" : path + ": ") + what + " must be a map of key: value, got "
          + describe(node));
      return null;
    }
    return new YamlFields(m, path, problems);
  }

  /** The line a node starts on, counted from 1. */
  static int lineOf(Node node) {
    return node.getStartMark().map(Mark::getLine).orElse(0) + 1;
  }

  /** A node as a problem names what it got: a scalar's text in quotes, or "a map", or "a list". */
  static String describe(Node node) {
    if (node instanceof ScalarNode s) {
      return "\"" + s.getValue() + "\"";
    }
    return node instanceof MappingNode ? "a map" : "a list";
  }

  /** The line the mapping starts on. */
  int line() {
    return line;
  }

  Problems problems() {
    return problems;
  }

  /** A key's path for messages: {@code guests[0].memory}. */
  String name(String key) {
    return path.isEmpty() ? key : key.isEmpty() ? path + ": " : path + "." + key;
  }

  /** Records a problem with a field that was read, at the line of its value (or of the mapping if it is absent). */
  void problem(String key, String text) {
    NodeTuple t = entries.get(key);
    problemAt(t == null ? line : lineOf(t.getValueNode()), name(key), text);
  }

  void problemAt(int at, String field, String text) {
    problems.add(at, field + ": " + text);
  }

  /** The line of item {@code index} of the list under {@code key}, or of the mapping if there is no such item. */
  int lineOfListItem(String key, int index) {
    NodeTuple t = entries.get(key);
    if (t != null && t.getValueNode() instanceof SequenceNode s && index < s.getValue().size()) {
      return lineOf(s.getValue().get(index));
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
        problems.add(line, name(key) + ": missing");
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
      problems.add(lineOf(n), name(key) + ": expected " + expected + ", got "
          + (n instanceof ScalarNode ? "nothing" : describe(n)));
      return null;
    }
    return s.getValue().trim();
  }

  /** The key's text as {@code parser} reads it; a parser's refusal becomes a problem quoting its message. */
  <T> T parsed(String key, boolean required, String expected, String hint, Function<String, T> parser) {
    return read(key, required, expected, parser, e -> (hint == null ? "" : " (" + hint + ")") + ": " + e.getMessage());
  }

  /**
   * The key's text as {@code parser} reads it, or null; a refusal becomes the problem
   * {@code "text" is not <expected><why>}.
   */
  private <T> T read(String key, boolean required, String expected, Function<String, T> parser,
                     Function<IllegalArgumentException, String> why) {
    String text = scalar(key, required, expected);
    if (text == null) {
      return null;
    }
    try {
      return parser.apply(text);
    } catch (IllegalArgumentException e) {
      problems.add(lineOf(node(key, false)), name(key) + ": \"" + text + "\" is not " + expected + why.apply(e));
      return null;
    }
  }

  String string(String key, boolean required, String fallback) {
    String s = scalar(key, required, "a word");
    return s == null ? fallback : s;
  }

  /** A size of whole 4 KiB pages, more than 0 except for a balloon {@code target} and a guest's {@code os-image}. */
  MemorySize size(String key, boolean required) {
    Node n = node(key, required);
    String text = scalar(key, false, "a size");
    if (text == null) {
      return null;
    }
    try {
      MemorySize size = MemorySize.parse(text);
      if (size.bytes() == 0 && !key.equals("target") && !key.equals("os-image")) {
        problems.add(lineOf(n), name(key) + ": must be more than 0");
        return null;
      }
      if (size.bytes() % 4096 != 0) {
        problems.add(lineOf(n), name(key) + ": \"" + text + "\" is not a whole number of 4 KiB pages");
        return null;
      }
      return size;
    } catch (IllegalArgumentException e) {
      problems.add(lineOf(n), name(key) + ": \"" + text + "\" is not a size (use 512MiB, 4GiB)");
      return null;
    }
  }

  /** A duration of 0 or more; {@code fallback} if the key is absent and not required. */
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
      problems.add(lineOf(n), name(key) + ": \"" + text + "\" is not a duration (use 500ms, 30s, 2m)");
      return null;
    }
  }

  /** A number from {@code min} to {@code max}; a trailing {@code %} is allowed (thresholds in percent). */
  Double number(String key, boolean required, double min, double max) {
    Double v = read(key, required, "a number",
        text -> Double.parseDouble(text.endsWith("%") ? text.substring(0, text.length() - 1) : text), e -> "");
    if (v != null && !(v >= min && v <= max)) {
      return outOfRange(key, scalar(key, false, "a number") + " must be from " + plain(min) + " to " + plain(max));
    }
    return v;
  }

  Long integer(String key, boolean required, long min, long max) {
    Long v = read(key, required, "a whole number", Long::parseLong, e -> "");
    if (v != null && (v < min || v > max)) {
      return outOfRange(key, v + " must be from " + min + " to " + max);
    }
    return v;
  }

  private <T> T outOfRange(String key, String text) {
    problems.add(lineOf(entries.get(key).getValueNode()), name(key) + ": " + text);
    return null;
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
        problems.add(lineOf(n), name(key) + ": \"" + text + "\" is not true or false");
        yield null;
      }
    };
  }

  /** One of {@code allowed}, in lower case. */
  String choice(String key, boolean required, List<String> allowed) {
    Node n = node(key, required);
    String text = scalar(key, false, "one of " + String.join(", ", allowed));
    if (text == null) {
      return null;
    }
    String v = text.toLowerCase(Locale.ROOT);
    if (!allowed.contains(v)) {
      problems.add(lineOf(n), name(key) + ": \"" + text + "\" is not one of " + String.join(", ", allowed));
      return null;
    }
    return v;
  }

  /** The mapping under {@code key}, to read field by field, or null. */
  YamlFields map(String key, boolean required) {
    Node n = node(key, required);
    return n == null ? null : of(n, name(key), "it", problems);
  }

  /** The mapping under {@code key} as {@code reader} reads it, or null. */
  <T> T nested(String key, boolean required, Function<YamlFields, T> reader) {
    YamlFields f = map(key, required);
    return f == null ? null : reader.apply(f);
  }

  /** A list of maps; {@code null} unless every item could be read, which {@code readable} collects. */
  <T> List<T> list(String key, boolean required, Function<YamlFields, T> reader, List<T> readable) {
    Node n = node(key, required);
    if (n == null) {
      return null;
    }
    if (!(n instanceof SequenceNode s)) {
      problems.add(lineOf(n), name(key) + ": expected a list (items starting with '- '), got " + describe(n));
      return null;
    }
    boolean complete = true;
    for (int i = 0; i < s.getValue().size(); i++) {
      YamlFields item = of(s.getValue().get(i), name(key) + "[" + i + "]", "each item", problems);
      T value = item == null ? null : reader.apply(item);
      if (value == null) {
        complete = false;
      } else {
        readable.add(value);
      }
    }
    return complete ? readable : null;
  }

  /** Refuses every key that was not read. */
  void finish() {
    for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
      if (!read.contains(e.getKey())) {
        problems.add(lineOf(e.getValue().getKeyNode()), name(e.getKey()) + ": unknown key (known here: "
            + String.join(", ", new TreeSet<>(read)) + ")");
      }
    }
  }

  /** A bound as a person writes it: {@code 100}, not {@code 100.0}. */
  private static String plain(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
