package org.balloonlab.lab.experiment;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.balloonlab.lab.report.VmSample;

/**
 * Page sharing as a function of the number of identical VMs (Waldspurger, OSDI 2002, section 4.3, Fig. 4), read
 * from the time series of one run whose guests start one after another.
 *
 * <p>The point for N VMs is the last sample in which the hypervisor lists exactly N VMs: just before the next guest
 * starts (the sample taken at a start's own instant already lists the new VM, with nothing mapped yet), or the run's
 * last sample for the last guest. From it: the guests' mapped pages (the aggregate VM memory), the pages mapped to a
 * shared frame (the VMs' shared pages added up) and the frames sharing saves, the mapped pages less the frames in
 * use ({@code mapped - saved + free = machine frames}). Each point also says how settled it was: the largest change
 * of its shared or reclaimed share over the last second before it. A guest that ends early ends the series there.
 *
 * <p>For content identical across VMs plus zero pages within each, the model is: a fraction {@code c} of each VM's
 * memory is identical in every VM and a fraction {@code z} is zero pages, which share one frame even in one VM; then
 * the shared share is {@code z} for one VM and {@code c + z} from two, and the reclaimed share is
 * {@code z + c (N - 1) / N}: every shared frame saves all its copies but one. With {@code z} read from the one-VM
 * point, {@link #modelReclaimedPct} gives the reclaimed share the N-VM point's shared share implies.
 */
final class SharingSeries {
  /** How far back a point looks to say whether its step had settled. */
  static final double SETTLE_SECONDS = 1.0;

  /**
   * The machine with {@code vms} guests.
   *
   * @param vms how many guests the hypervisor listed
   * @param labSeconds the lab time of the sample
   * @param mappedPages the guests' mapped pages
   * @param sharedPages their pages mapped to a shared frame
   * @param savedFrames frames sharing saves
   * @param settle the largest change of the shared or reclaimed share over the last {@link #SETTLE_SECONDS} before
   *     the point, in percentage points; NaN when the step has no sample that far back
   */
  record Point(int vms, double labSeconds, long mappedPages, long sharedPages, long savedFrames, double settle) {
    double sharedPct() {
      return pct(sharedPages, mappedPages);
    }

    double reclaimedPct() {
      return pct(savedFrames, mappedPages);
    }
  }

  /** The machine at one lab time: guests listed, mapped, shared, saved. */
  private record Totals(int vms, long mapped, long shared, long saved) {
  }

  private SharingSeries() {}

  /** The points, one per number of guests listed, in increasing order. */
  static List<Point> points(List<VmSample> samples, long machineFrames) {
    TreeMap<Double, long[]> raw = new TreeMap<>();
    for (VmSample s : samples) {
      long[] t = raw.computeIfAbsent(s.labSeconds(), k -> new long[4]);
      t[0]++;
      t[1] += s.mappedPages();
      t[2] += s.sharedPages();
      t[3] = s.freeFrames();
    }
    TreeMap<Double, Totals> byTime = new TreeMap<>();
    int before = 0;
    for (Map.Entry<Double, long[]> e : raw.entrySet()) {
      long[] t = e.getValue();
      if (t[0] < before) {
        break; // a guest ended: the series stops at the last sample with all of them
      }
      before = (int) t[0];
      byTime.put(e.getKey(), new Totals((int) t[0], t[1], t[2], t[1] - (machineFrames - t[3])));
    }
    TreeMap<Integer, Double> lastAt = new TreeMap<>();
    byTime.forEach((time, t) -> lastAt.put(t.vms(), time));
    List<Point> points = new ArrayList<>();
    for (Map.Entry<Integer, Double> e : lastAt.entrySet()) {
      double time = e.getValue();
      Totals t = byTime.get(time);
      Map.Entry<Double, Totals> earlier = byTime.floorEntry(time - SETTLE_SECONDS + 1e-9);
      double settle = Double.NaN;
      if (earlier != null && earlier.getValue().vms() == t.vms()) {
        Totals p = earlier.getValue();
        settle = Math.max(Math.abs(pct(t.shared(), t.mapped()) - pct(p.shared(), p.mapped())),
            Math.abs(pct(t.saved(), t.mapped()) - pct(p.saved(), p.mapped())));
      }
      points.add(new Point(t.vms(), time, t.mapped(), t.shared(), t.saved(), settle));
    }
    return points;
  }

  /** The reclaimed share the model gives N VMs: {@code z + (shared - z) (N - 1) / N}, z the one-VM shared share. */
  static double modelReclaimedPct(double oneVmSharedPct, double sharedPct, int vms) {
    return oneVmSharedPct + (sharedPct - oneVmSharedPct) * (vms - 1) / vms;
  }

  /** The largest gap, in points, between a point's reclaimed share and the model's; NaN without a one-VM point. */
  static double modelGap(List<Point> points) {
    if (points.isEmpty() || points.get(0).vms() != 1 || points.size() < 2) {
      return Double.NaN;
    }
    double z = points.get(0).sharedPct();
    double gap = 0;
    for (Point p : points.subList(1, points.size())) {
      gap = Math.max(gap, Math.abs(p.reclaimedPct() - modelReclaimedPct(z, p.sharedPct(), p.vms())));
    }
    return gap;
  }

  /**
   * 1 if every VM added raised the memory shared, the frames saved and the reclaimed share, and the points run
   * 1, 2, 3... without a gap; 0 otherwise; NaN with fewer than two points.
   */
  static double monotone(List<Point> points) {
    if (points.size() < 2) {
      return Double.NaN;
    }
    for (int i = 0; i < points.size(); i++) {
      Point p = points.get(i);
      if (p.vms() != i + 1) {
        return 0;
      }
      if (i > 0) {
        Point q = points.get(i - 1);
        if (p.sharedPages() <= q.sharedPages() || p.savedFrames() <= q.savedFrames()
            || p.reclaimedPct() <= q.reclaimedPct()) {
          return 0;
        }
      }
    }
    return 1;
  }

  /** The largest {@link Point#settle} of the points; NaN if any point's step could not tell, or there are none. */
  static double settle(List<Point> points) {
    double worst = points.isEmpty() ? Double.NaN : 0;
    for (Point p : points) {
      worst = Math.max(worst, p.settle()); // Math.max of NaN is NaN
    }
    return worst;
  }

  private static double pct(long part, long whole) {
    return whole > 0 ? 100.0 * part / whole : Double.NaN;
  }
}
