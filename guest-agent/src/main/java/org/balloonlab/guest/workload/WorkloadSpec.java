package org.balloonlab.guest.workload;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.balloonlab.units.MemorySize;

/**
 * A workload as written on the command line: {@code TYPE[:key=value,...]}.
 *
 * <table>
 *   <caption>Workload types</caption>
 *   <tr><th>type</th><th>what it touches</th><th>keys</th></tr>
 *   <tr><td>{@code sequential}</td><td>every page in order, again and again</td><td>footprint, writes, passes</td></tr>
 *   <tr><td>{@code uniform}</td><td>pages chosen uniformly at random</td><td>footprint, writes</td></tr>
 *   <tr><td>{@code hotset}</td><td>a hot set most of the time (80/20 by default), the rest uniformly</td>
 *       <td>footprint, writes, hot, hot-share</td></tr>
 *   <tr><td>{@code phases}</td><td>uniformly over a working set that changes size phase by phase</td>
 *       <td>sizes (such as 64MiB/256MiB/64MiB), writes, loop; accesses is per phase</td></tr>
 *   <tr><td>{@code idle}</td><td>its footprint once, then nothing</td><td>footprint, writes</td></tr>
 *   <tr><td>{@code files}</td><td>a dbench-like load: reads and writes of a file through the guest's page cache
 *       (a hot set of it most of the time), between accesses to its own memory</td>
 *       <td>files, footprint (default 16MiB), file-share, writes, hot, hot-share</td></tr>
 * </table>
 * {@code files=SIZE} is the file's size; {@code file-share} the fraction of operations that are file reads or
 * writes (default 0.5), the rest touch the process's memory uniformly. Every type takes
 * {@code data-set=NAME,data=SIZE}: the first SIZE of the address space holds data set NAME, whose pages are
 * identical in every VM that names the same set (content tokens, see {@code ContentImage}), and {@code zero=SIZE}:
 * the next SIZE holds zero pages. The workload only reads those regions, so they keep their shared content.
 * Every type but {@code idle} takes {@code accesses=N} (total, or per phase for {@code phases}) after which it is done;
 * {@code writes} is the fraction of accesses that write (default 0.5). {@code uniform}, {@code hotset} and
 * {@code phases} take {@code ramp=N}: the footprint they touch grows from nothing to its full size over their first
 * N accesses, as an application allocating its memory over time does, instead of all at once. Every type takes
 * {@code rate=N}, accesses per second of simulated time (default 0: as fast as the vCPU runs it): a process that
 * has made its share sleeps until its VM's clock catches up, so a lab can run a busy but not saturated VM for
 * simulated minutes at little cost. Every type but {@code idle} takes {@code schedule=idle:30s/active:60s/...}: when
 * the process works and when it makes no access at all, on the guest's simulated time since boot (the last entry
 * may leave its length out and last for ever; otherwise the schedule repeats); see {@link ActivitySchedule}.
 *
 * @param type the workload type
 * @param footprintPages the address space the workload touches
 * @param writeFraction fraction of accesses that write
 * @param accesses total accesses (per phase for phases) before done; 0 means forever
 * @param passes sequential passes before done; 0 means forever
 * @param hotFraction the hot set's share of the footprint
 * @param hotShare the share of accesses that go to the hot set
 * @param phasePages working-set sizes of the phases, in pages
 * @param loop whether phases start over after the last
 * @param ramp accesses over which the touched footprint grows to its full size; 0 for at once
 * @param rate accesses per second of simulated time at most; 0 for as fast as the vCPU runs it
 * @param schedule when the workload works and when it idles, or {@code null} for always
 * @param dataSet the data set's name, or {@code null} for none
 * @param dataPages pages of the data set, from VPN 0
 * @param zeroPages pages of zeroes after the data set
 * @param filePages pages of the file a {@code files} workload works on; 0 for others
 * @param fileShare the fraction of a {@code files} workload's operations that go to its file
 */
public record WorkloadSpec(String type, int footprintPages, double writeFraction, long accesses, long passes,
                           double hotFraction, double hotShare, List<Integer> phasePages, boolean loop,
                           long ramp, long rate, ActivitySchedule schedule, String dataSet, int dataPages,
                           int zeroPages, int filePages, double fileShare) {

  /** The highest {@code rate}: a billion accesses a simulated second, far beyond what one vCPU makes. */
  public static final long MAX_RATE = 1_000_000_000L;

  /** A {@code files} workload's own memory when it names none. */
  public static final String DEFAULT_FILES_FOOTPRINT = "16MiB";
  /** What a data set's name may be: the characters of a file name, 1 to 64 of them. */
  public static final String DATA_SET_RULE = "1 to 64 letters, digits, '.', '_' or '-'";

  private static final Set<String> CONTENT_KEYS = Set.of("data-set", "data", "zero");
  private static final Map<String, Set<String>> KEYS = Map.of(
      "sequential", with("footprint", "writes", "passes", "accesses", "rate", "schedule"),
      "uniform", with("footprint", "writes", "accesses", "ramp", "rate", "schedule"),
      "hotset", with("footprint", "writes", "hot", "hot-share", "accesses", "ramp", "rate", "schedule"),
      "phases", with("sizes", "writes", "loop", "accesses", "ramp", "rate", "schedule"),
      "idle", with("footprint", "writes", "rate"),
      "files", with("files", "footprint", "file-share", "writes", "hot", "hot-share", "accesses", "rate", "schedule"));

  private static Set<String> with(String... keys) {
    Set<String> all = new java.util.HashSet<>(Set.of(keys));
    all.addAll(CONTENT_KEYS);
    return Set.copyOf(all);
  }

  /**
   * Parses a workload description.
   *
   * @throws IllegalArgumentException naming the key and the value that is wrong
   */
  public static WorkloadSpec parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("a workload is required, such as hotset:footprint=256MiB");
    }
    String t = text.trim();
    int colon = t.indexOf(':');
    String type = (colon < 0 ? t : t.substring(0, colon)).toLowerCase(Locale.ROOT);
    if (!KEYS.containsKey(type)) {
      throw new IllegalArgumentException("unknown workload type '" + type + "'; known: "
          + String.join(", ", new java.util.TreeSet<>(KEYS.keySet())));
    }
    Map<String, String> kv = new LinkedHashMap<>();
    if (colon >= 0 && colon < t.length() - 1) {
      for (String pair : t.substring(colon + 1).split(",")) {
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("workload option '" + pair + "' must be key=value");
        }
        String key = pair.substring(0, eq).trim().toLowerCase(Locale.ROOT);
        if (!KEYS.get(type).contains(key)) {
          throw new IllegalArgumentException("workload " + type + " has no option '" + key + "'; it takes "
              + String.join(", ", new java.util.TreeSet<>(KEYS.get(type))));
        }
        if (kv.put(key, pair.substring(eq + 1).trim()) != null) {
          throw new IllegalArgumentException("workload option '" + key + "' is given twice");
        }
      }
    }
    double writes = fraction(kv, "writes", 0.5);
    long accesses = count(kv, "accesses");
    long passes = count(kv, "passes");
    long ramp = count(kv, "ramp");
    long rate = count(kv, "rate");
    if (rate > MAX_RATE) {
      throw new IllegalArgumentException("workload option rate must be at most " + MAX_RATE + ", got " + rate);
    }
    double hot = fraction(kv, "hot", 0.2);
    double hotShare = fraction(kv, "hot-share", 0.8);
    String loopText = kv.getOrDefault("loop", "false");
    if (!loopText.equals("true") && !loopText.equals("false")) {
      throw new IllegalArgumentException("workload option loop must be true or false, got '" + loopText + "'");
    }
    boolean loop = loopText.equals("true");
    List<Integer> phases = new ArrayList<>();
    int footprint;
    if (type.equals("phases")) {
      String sizes = kv.get("sizes");
      if (sizes == null) {
        throw new IllegalArgumentException("workload phases needs sizes, such as sizes=64MiB/256MiB/64MiB");
      }
      footprint = 0;
      for (String s : sizes.split("/")) {
        int pages = pages("sizes", s);
        phases.add(pages);
        footprint = Math.max(footprint, pages);
      }
      if (accesses == 0) {
        throw new IllegalArgumentException("workload phases needs accesses=N, the accesses of each phase");
      }
    } else {
      String fp = kv.get("footprint");
      if (fp == null && type.equals("files")) {
        fp = DEFAULT_FILES_FOOTPRINT;
      }
      if (fp == null) {
        throw new IllegalArgumentException("workload " + type + " needs footprint=SIZE, such as footprint=256MiB");
      }
      footprint = pages("footprint", fp);
    }
    if (type.equals("hotset") && (hot == 0 || hot == 1)) {
      throw new IllegalArgumentException("hotset's hot must be strictly between 0 and 1, got " + hot);
    }
    String scheduleText = kv.get("schedule");
    ActivitySchedule schedule = scheduleText == null ? null : ActivitySchedule.parse(scheduleText);
    String dataSet = kv.get("data-set");
    int dataPages = kv.containsKey("data") ? pages("data", kv.get("data")) : 0;
    int zeroPages = kv.containsKey("zero") ? pages("zero", kv.get("zero")) : 0;
    if (dataSet != null && !dataSet.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException("workload option data-set must be " + DATA_SET_RULE + ", got '"
          + (dataSet.length() > 64 ? dataSet.substring(0, 64) + "..." : dataSet) + "'");
    }
    if ((dataSet == null) != (dataPages == 0)) {
      throw new IllegalArgumentException("workload options data-set and data go together: data-set=NAME,data=SIZE");
    }
    if (dataPages > CONTENT_PAGES) {
      throw new IllegalArgumentException("workload option data must be at most 64GiB");
    }
    if ((long) dataPages + zeroPages > footprint) {
      throw new IllegalArgumentException("workload options data and zero take " + MemorySize.humanPages(
          (long) dataPages + zeroPages) + ", more than the footprint " + MemorySize.humanPages(footprint));
    }
    int filePages = 0;
    double fileShare = 0;
    if (type.equals("files")) {
      String files = kv.get("files");
      if (files == null) {
        throw new IllegalArgumentException(
            "workload files needs files=SIZE, the size of its file, such as files=256MiB");
      }
      filePages = pages("files", files);
      if (filePages > CONTENT_PAGES) {
        throw new IllegalArgumentException("workload option files must be at most 64GiB");
      }
      fileShare = fraction(kv, "file-share", 0.5);
    }
    return new WorkloadSpec(type, footprint, writes, accesses, passes, hot, hotShare, List.copyOf(phases), loop, ramp,
        rate, schedule, dataSet, dataPages, zeroPages, filePages, fileShare);
  }

  /** Pages a data set or a file may hold: what a content token can index, 64 GiB. */
  private static final int CONTENT_PAGES = 1 << 24;

  private static int pages(String key, String value) {
    long pages;
    try {
      pages = MemorySize.parse(value).requirePages(key);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("workload option " + key + ": " + e.getMessage());
    }
    if (pages > (1 << 27)) {
      throw new IllegalArgumentException("workload option " + key + "=" + value + " exceeds the 512GiB address space");
    }
    return (int) pages;
  }

  private static double fraction(Map<String, String> kv, String key, double dflt) {
    String v = kv.get(key);
    if (v == null) {
      return dflt;
    }
    double d;
    try {
      d = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("workload option " + key + " must be a number from 0 to 1, got '" + v + "'");
    }
    if (!(d >= 0 && d <= 1)) {
      throw new IllegalArgumentException("workload option " + key + " must be from 0 to 1, got " + v);
    }
    return d;
  }

  private static long count(Map<String, String> kv, String key) {
    String v = kv.get(key);
    if (v == null) {
      return 0;
    }
    try {
      long n = Long.parseLong(v);
      if (n <= 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("workload option " + key + " must be a positive whole number, got '" + v
          + "'");
    }
  }

  /** Pages a ramping workload may touch after {@code done} accesses: all of its footprint once the ramp is over. */
  int reachablePages(long done) {
    if (ramp == 0 || done >= ramp) {
      return footprintPages;
    }
    return (int) Math.max(1, footprintPages * done / ramp);
  }

  /** A fresh workload of this spec, for one process. */
  public Workload create() {
    return switch (type) {
      case "sequential" -> new SequentialScan(this);
      case "uniform" -> new UniformRandom(this);
      case "hotset" -> new HotSet(this);
      case "phases" -> new Phases(this);
      case "idle" -> new Idle(this);
      case "files" -> new FileWorkload(this);
      default -> throw new IllegalStateException("unknown type " + type);
    };
  }
}
