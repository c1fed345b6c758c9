package org.balloonlab.hypervisor.time;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The constants that turn simulated events into simulated time, in nanoseconds.
 *
 * <p>Experiments compare simulated time, which does not depend on how busy the host running the simulation is.
 * The machine owns the model and hands it to each guest at power-on, so a guest charges its own work (memory
 * accesses, its page faults, its swap device) with the same constants the hypervisor uses for hidden faults.
 * Defaults describe a server of the SSD era; docs/cost-model.md explains each and where it comes from.
 *
 * @param memoryAccessNs one load or store of the workload (a mix of cache hits and DRAM references)
 * @param guestPageFaultNs a true fault's trap and handler in the guest kernel, I/O excluded
 * @param hiddenFaultNs a hidden fault's exit to the hypervisor, its handler and the re-entry, I/O excluded
 * @param zeroFrameNs clearing a 4 KiB frame before it backs a guest page
 * @param guestSwapReadNs reading a page from the guest's swap device
 * @param guestSwapWriteNs writing a page to the guest's swap device
 * @param hostSwapReadNs reading a page from the hypervisor's swap file
 * @param hostSwapWriteNs writing a page to the hypervisor's swap file
 * @param tlbHitNs a translation found in the TLB
 * @param pageWalkReferenceNs one memory reference of a page walk (nested misses take up to 24, shadow misses 4)
 * @param vmExitNs an exit to the hypervisor and back with a short handler (shadow mode's page-table writes,
 *     address-space switches and intercepted guest page faults)
 * @param copyFrameNs copying a 4 KiB frame when a write breaks copy-on-write sharing (the hidden fault apart)
 * @param shareScanNs the page-sharing scanner's CPU work for one page it picks: hashing the 4 KiB page and
 *     probing the sharing table; charged to the VM whose page it is (0 turns the charge off)
 */
public record CostModel(
    long memoryAccessNs,
    long guestPageFaultNs,
    long hiddenFaultNs,
    long zeroFrameNs,
    long guestSwapReadNs,
    long guestSwapWriteNs,
    long hostSwapReadNs,
    long hostSwapWriteNs,
    long tlbHitNs,
    long pageWalkReferenceNs,
    long vmExitNs,
    long copyFrameNs,
    long shareScanNs) {

  /** Translation constants of the 8-constant form: see docs/cost-model.md. */
  public static final long DEFAULT_TLB_HIT_NS = 1;
  public static final long DEFAULT_PAGE_WALK_REFERENCE_NS = 20;
  public static final long DEFAULT_VM_EXIT_NS = 1_000;
  /** Copying a frame: a read and a write of 4 KiB, about twice zeroing it. */
  public static final long DEFAULT_COPY_FRAME_NS = 1_000;
  /**
   * The sharing scanner's work on one page: hashing 4 KiB at a MurmurHash3-class rate of a few GB/s (about
   * 1.5 µs, the page's read from memory overlapping it) and a probe of the table; docs/cost-model.md.
   */
  public static final long DEFAULT_SHARE_SCAN_NS = 1_500;

  public static final CostModel DEFAULT = new CostModel(50, 1_000, 2_000, 500, 100_000, 100_000, 100_000, 100_000);

  private static final Map<String, ToLongFunction<CostModel>> FIELDS = new LinkedHashMap<>();

  static {
    FIELDS.put("memory-access", CostModel::memoryAccessNs);
    FIELDS.put("guest-page-fault", CostModel::guestPageFaultNs);
    FIELDS.put("hidden-fault", CostModel::hiddenFaultNs);
    FIELDS.put("zero-frame", CostModel::zeroFrameNs);
    FIELDS.put("guest-swap-read", CostModel::guestSwapReadNs);
    FIELDS.put("guest-swap-write", CostModel::guestSwapWriteNs);
    FIELDS.put("host-swap-read", CostModel::hostSwapReadNs);
    FIELDS.put("host-swap-write", CostModel::hostSwapWriteNs);
    FIELDS.put("tlb-hit", CostModel::tlbHitNs);
    FIELDS.put("page-walk-reference", CostModel::pageWalkReferenceNs);
    FIELDS.put("vm-exit", CostModel::vmExitNs);
    FIELDS.put("copy-frame", CostModel::copyFrameNs);
    FIELDS.put("share-scan", CostModel::shareScanNs);
  }

  /** A model with the default translation constants. */
  public CostModel(long memoryAccessNs, long guestPageFaultNs, long hiddenFaultNs, long zeroFrameNs,
                   long guestSwapReadNs, long guestSwapWriteNs, long hostSwapReadNs, long hostSwapWriteNs) {
    this(memoryAccessNs, guestPageFaultNs, hiddenFaultNs, zeroFrameNs, guestSwapReadNs, guestSwapWriteNs,
        hostSwapReadNs, hostSwapWriteNs, DEFAULT_TLB_HIT_NS, DEFAULT_PAGE_WALK_REFERENCE_NS, DEFAULT_VM_EXIT_NS);
  }

  /** A model with the default copy-on-write copy cost. */
  public CostModel(long memoryAccessNs, long guestPageFaultNs, long hiddenFaultNs, long zeroFrameNs,
                   long guestSwapReadNs, long guestSwapWriteNs, long hostSwapReadNs, long hostSwapWriteNs,
                   long tlbHitNs, long pageWalkReferenceNs, long vmExitNs) {
    this(memoryAccessNs, guestPageFaultNs, hiddenFaultNs, zeroFrameNs, guestSwapReadNs, guestSwapWriteNs,
        hostSwapReadNs, hostSwapWriteNs, tlbHitNs, pageWalkReferenceNs, vmExitNs, DEFAULT_COPY_FRAME_NS);
  }

  /** A model with the default cost of the sharing scanner's work per page. */
  public CostModel(long memoryAccessNs, long guestPageFaultNs, long hiddenFaultNs, long zeroFrameNs,
                   long guestSwapReadNs, long guestSwapWriteNs, long hostSwapReadNs, long hostSwapWriteNs,
                   long tlbHitNs, long pageWalkReferenceNs, long vmExitNs, long copyFrameNs) {
    this(memoryAccessNs, guestPageFaultNs, hiddenFaultNs, zeroFrameNs, guestSwapReadNs, guestSwapWriteNs,
        hostSwapReadNs, hostSwapWriteNs, tlbHitNs, pageWalkReferenceNs, vmExitNs, copyFrameNs,
        DEFAULT_SHARE_SCAN_NS);
  }

  public CostModel {
    long[] all = {memoryAccessNs, guestPageFaultNs, hiddenFaultNs, zeroFrameNs, guestSwapReadNs, guestSwapWriteNs,
        hostSwapReadNs, hostSwapWriteNs, tlbHitNs, pageWalkReferenceNs, vmExitNs, copyFrameNs, shareScanNs};
    for (long v : all) {
      if (v < 0) {
        throw new IllegalArgumentException("cost model constants cannot be negative, got " + v);
      }
    }
  }

  /** The names accepted by {@link #with}, in order. */
  public static Iterable<String> names() {
    return FIELDS.keySet();
  }

  /**
   * This model with one constant replaced, from {@code name=nanoseconds} as given to {@code --cost}.
   *
   * @throws IllegalArgumentException naming the unknown constant or the bad value
   */
  public CostModel with(String assignment) {
    int eq = assignment.indexOf('=');
    if (eq <= 0) {
      throw new IllegalArgumentException("write a cost as name=nanoseconds, such as host-swap-read=5000000; got '"
          + assignment + "'");
    }
    String name = assignment.substring(0, eq).trim().toLowerCase(Locale.ROOT);
    if (!FIELDS.containsKey(name)) {
      throw new IllegalArgumentException("unknown cost '" + name + "'; known: " + String.join(", ", FIELDS.keySet()));
    }
    long value;
    try {
      value = Long.parseLong(assignment.substring(eq + 1).trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("cost " + name + " must be a whole number of nanoseconds, got '"
          + assignment.substring(eq + 1) + "'");
    }
    if (value < 0) {
      throw new IllegalArgumentException("cost " + name + " cannot be negative, got " + value);
    }
    long[] v = new long[FIELDS.size()];
    int i = 0;
    for (Map.Entry<String, ToLongFunction<CostModel>> e : FIELDS.entrySet()) {
      v[i++] = e.getKey().equals(name) ? value : e.getValue().applyAsLong(this);
    }
    return new CostModel(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]);
  }

  /** {@code name=value} pairs, for logs and reports. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, ToLongFunction<CostModel>> e : FIELDS.entrySet()) {
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(e.getKey()).append('=').append(e.getValue().applyAsLong(this)).append("ns");
    }
    return sb.toString();
  }
}
