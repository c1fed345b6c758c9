package org.balloonlab.hypervisor.time;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The disk behind both swap devices of a lab, the guests' own swap and the hypervisor's host swap, as one named
 * set of cost-model constants: a lab picks its era with {@code --disk-profile} (a scenario's {@code disk-profile})
 * and {@code --cost} may still override any constant after it.
 *
 * <ul>
 *   <li>{@code ssd} (the default): a datacenter SSD, a random 4 KiB read or write in about 100 µs. These are
 *       {@link CostModel#DEFAULT}'s disk constants.
 *   <li>{@code disk-2002}: a server disk of the time of Waldspurger, OSDI 2002: a 10,000 rpm SCSI disk, whose
 *       random 4 KiB access costs an average seek of about 5 ms plus half a rotation (3 ms at 10,000 rpm) plus a
 *       transfer of well under 0.1 ms: 8 ms for a read and as much for a write (swap writes of single random
 *       pages gain nothing from the disk's cache). Paging is then 80 times dearer than on the SSD, as dear as on
 *       the machines the paper measured.
 * </ul>
 *
 * <p>Both profiles charge the guest's swap and the host swap alike, since in both eras they share the kind of
 * disk; docs/cost-model.md says who pays each page.
 */
public enum DiskProfile {
  SSD("ssd", 100_000, 100_000),
  DISK_2002("disk-2002", 8_000_000, 8_000_000);

  private final String label;
  private final long readNs;
  private final long writeNs;

  DiskProfile(String label, long readNs, long writeNs) {
    this.label = label;
    this.readNs = readNs;
    this.writeNs = writeNs;
  }

  /** The name a flag or a scenario gives it. */
  public String label() {
    return label;
  }

  /** A random 4 KiB page read from this disk, in ns. */
  public long readNs() {
    return readNs;
  }

  /** A random 4 KiB page written to this disk, in ns. */
  public long writeNs() {
    return writeNs;
  }

  /** {@code model} with its four swap constants (guest and host, read and write) replaced by this disk's. */
  public CostModel applyTo(CostModel model) {
    return model.with("guest-swap-read=" + readNs).with("guest-swap-write=" + writeNs)
        .with("host-swap-read=" + readNs).with("host-swap-write=" + writeNs);
  }

  /** The labels, in order: {@code ssd, disk-2002}. */
  public static List<String> labels() {
    List<String> labels = new ArrayList<>();
    for (DiskProfile p : values()) {
      labels.add(p.label);
    }
    return List.copyOf(labels);
  }

  /**
   * The profile named {@code name} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the known profiles; the name given is quoted only if short
   */
  public static DiskProfile of(String name) {
    if (name != null) {
      String key = name.trim().toLowerCase(Locale.ROOT);
      for (DiskProfile p : values()) {
        if (p.label.equals(key)) {
          return p;
        }
      }
    }
    String shown = name == null ? "nothing" : name.length() > 40 ? "a name of " + name.length() + " characters"
        : "'" + name + "'";
    throw new IllegalArgumentException("unknown disk profile " + shown + "; known: " + String.join(", ", labels()));
  }
}
