package org.balloonlab.transport.metrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The metric families of one scrape, gathered value by value and turned into Prometheus snapshots at the end: a
 * family is declared by its first value, and later values of the same name add data points with other labels.
 * Names follow Prometheus conventions: a counter's name is given without {@code _total} (the exposition adds it),
 * and a name with a unit ends with it ({@code _bytes}, {@code _seconds}, {@code _ratio}).
 *
 * <p>One per scrape, on the scraping thread: not thread-safe.
 */
public final class MetricFamilies {
  private enum Type { GAUGE, COUNTER }

  private record Family(Type type, String help, Unit unit, List<Labels> labels, List<Double> values) {}

  private final Map<String, Family> families = new LinkedHashMap<>();

  /** A gauge: a value that goes up and down. {@code labels} are name, value pairs. */
  public MetricFamilies gauge(String name, String help, Unit unit, double value, String... labels) {
    return add(Type.GAUGE, name, help, unit, value, labels);
  }

  /** A counter: a running total since the process (or the VM) started. */
  public MetricFamilies counter(String name, String help, Unit unit, double value, String... labels) {
    return add(Type.COUNTER, name, help, unit, value, labels);
  }

  private MetricFamilies add(Type type, String name, String help, Unit unit, double value, String[] labels) {
    Family f = families.computeIfAbsent(name, n -> new Family(type, help, unit, new ArrayList<>(), new ArrayList<>()));
    if (f.type() != type) {
      throw new IllegalArgumentException(name + " is a " + f.type() + ", not a " + type);
    }
    f.labels().add(Labels.of(labels));
    f.values().add(value);
    return this;
  }

  /** The families as Prometheus snapshots. */
  public MetricSnapshots snapshots() {
    List<MetricSnapshot> out = new ArrayList<>(families.size());
    families.forEach((name, f) -> out.add(f.type() == Type.GAUGE ? gauge(name, f) : counter(name, f)));
    return new MetricSnapshots(out);
  }

  private static MetricSnapshot gauge(String name, Family f) {
    GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(f.help());
    if (f.unit() != null) {
      b.unit(f.unit());
    }
    for (int i = 0; i < f.values().size(); i++) {
      b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(f.labels().get(i)).value(f.values().get(i))
          .build());
    }
    return b.build();
  }

  private static MetricSnapshot counter(String name, Family f) {
    CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(f.help());
    if (f.unit() != null) {
      b.unit(f.unit());
    }
    for (int i = 0; i < f.values().size(); i++) {
      b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(f.labels().get(i))
          .value(f.values().get(i)).build());
    }
    return b.build();
  }
}
