package org.balloonlab.lab;

import java.util.Locale;
import org.balloonlab.proto.TargetDecision;
import org.balloonlab.proto.VmShare;
import org.balloonlab.units.MemorySize;

/**
 * Turns one of the reclamation policy's decisions into sentences a student can follow: what moved, in which
 * free-memory state, which rule bounded the VM, and how the idle memory tax weighed its idle pages. The numbers
 * are the ones the hypervisor decided from (docs/reclamation.md, "Why a target moved").
 */
final class DecisionExplanation {
  private DecisionExplanation() {}

  /** A paragraph explaining {@code d}, ending with a line per VM that the decision divided memory among. */
  static String explain(TargetDecision d) {
    VmShare me = self(d);
    String vm = d.getVmName();
    StringBuilder s = new StringBuilder();
    boolean fell = d.getToAllocationPages() < d.getFromAllocationPages();
    s.append(String.format(Locale.ROOT, "At t=%s, %s's allocation %s from %s to %s (its balloon target %s from %s "
            + "to %s)", seconds(d.getLabTimeNs()), vm, fell ? "fell" : "rose",
        size(d.getFromAllocationPages()), size(d.getToAllocationPages()),
        d.getToBalloonPages() > d.getFromBalloonPages() ? "rose" : "fell", size(d.getFromBalloonPages()),
        size(d.getToBalloonPages())));
    String state = d.getFreeState().toUpperCase(Locale.ROOT);
    String free = String.format(Locale.ROOT, "free memory was %s (%s free of %s; the policy keeps %s free)", state,
        size(d.getFreeFrames()), size(d.getMachineFrames()), size(d.getTargetFreeFrames()));
    switch (d.getBound()) {
      case "whole-size" -> s.append(" because ").append(free).append(": with memory to spare every VM may have its "
          + "whole size, so its balloon deflates.");
      case "ask" -> {
        s.append(" because ").append(free).append(" and it got what it asked for: the ")
            .append(size(me.getMappedPages())).append(" it uses plus room to grow into");
        if (d.getHeldBack()) {
          s.append(" (twice the usual room: it had come close to its last allocation, which may have been holding "
              + "it back)");
        }
        s.append('.');
      }
      case "shares", "min" -> {
        s.append(" because ").append(free).append(" and the VMs asked for more than the machine can give, so the "
            + "policy took memory from the VM with the lowest shares per page, a chunk at a time");
        s.append(lowest(d, me) ? String.format(Locale.ROOT, ", and %s had the lowest shares per page", vm)
            : String.format(Locale.ROOT, "; %s was among those it took from", vm));
        s.append(d.getBound().equals("min")
            ? String.format(Locale.ROOT, ", down to its reserved minimum (min %s), where reclaiming stops.",
                size(me.getMinPages()))
            : ".");
        s.append(' ').append(tax(vm, me));
      }
      case "pinned" -> s.append(": an operator pinned its target, and the policy left it alone.");
      default -> s.append(" (rule ").append(d.getBound()).append(").");
    }
    s.append(String.format(Locale.ROOT, "%n  The VMs at that decision (rho = shares / (pages x (f + k(1 - f)))):"));
    for (VmShare v : d.getVmsList()) {
      s.append(String.format(Locale.ROOT, "%n    %-10s shares %d, uses %s, allocated %s, active %.0f %%, tau %.2f, "
              + "rho %.4g%s", v.getVmName(), v.getShares(), size(v.getMappedPages()), size(v.getAllocationPages()),
          100 * v.getActiveFraction(), v.getTau(), v.getSharesPerPage(), v.getPinned() ? " (pinned)" : ""));
    }
    return s.toString();
  }

  /** How the idle memory tax weighed this VM's pages, in words. */
  static String tax(String vm, VmShare me) {
    double f = me.getActiveFraction();
    double tau = me.getTau();
    if (tau == 0) {
      return String.format(Locale.ROOT, "No idle memory tax applied (tau 0): shares alone decided, %d shares for "
          + "%s (rho %.4g).", me.getShares(), size(me.getAllocationPages()), me.getSharesPerPage());
    }
    double k = 1 / (1 - tau);
    if (f >= 1) {
      return String.format(Locale.ROOT, "It used all its memory actively, so the idle memory tax (tau %.2f) did not "
          + "charge it: rho %.4g is its shares per page.", tau, me.getSharesPerPage());
    }
    return String.format(Locale.ROOT, "It used %.0f %% of its memory actively (f = %.2f), so the idle memory tax "
            + "(tau %.2f) charged each of its idle pages %sx an active one (k = 1 / (1 - tau)): rho = %d / (%d x "
            + "(%.2f + %s x %.2f)) = %.4g, lower than the %.4g it would have had untaxed.",
        100 * f, f, tau, plain(k), me.getShares(), me.getAllocationPages(), f, plain(k), 1 - f,
        me.getSharesPerPage(), me.getShares() / (double) Math.max(1, me.getAllocationPages()));
  }

  /** A number to three significant digits without trailing zeros: 4, 1.33, 10. */
  private static String plain(double v) {
    return new java.math.BigDecimal(v).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString();
  }

  private static boolean lowest(TargetDecision d, VmShare me) {
    for (VmShare v : d.getVmsList()) {
      if (v.getVmId() != me.getVmId() && !v.getPinned() && v.getAllocationPages() > v.getMinPages()
          && v.getSharesPerPage() < me.getSharesPerPage()) {
        return false;
      }
    }
    return true;
  }

  private static VmShare self(TargetDecision d) {
    for (VmShare v : d.getVmsList()) {
      if (v.getVmId() == d.getVmId()) {
        return v;
      }
    }
    return VmShare.newBuilder().setVmId(d.getVmId()).setVmName(d.getVmName()).build();
  }

  private static String size(long pages) {
    return MemorySize.humanPages(pages);
  }

  private static String seconds(long ns) {
    return String.format(Locale.ROOT, "%.1f s", ns / 1e9);
  }
}
