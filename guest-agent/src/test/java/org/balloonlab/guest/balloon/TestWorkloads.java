package org.balloonlab.guest.balloon;

import java.util.SplittableRandom;
import org.balloonlab.guest.workload.Workload;

/** Small workloads with exactly known footprints, and a gate that lets a test pause a process. */
final class TestWorkloads {
  private TestWorkloads() {}

  /**
   * Passes the inner workload's accesses through while open; idles while closed. Closing it and then running
   * anything on the vCPU ({@link BalloonRig#quiesce()}) guarantees that no access of this process follows.
   */
  static final class Gated implements Workload {
    private final Workload inner;
    private volatile boolean open;

    Gated(Workload inner, boolean open) {
      this.inner = inner;
      this.open = open;
    }

    void open() {
      open = true;
    }

    void close() {
      open = false;
    }

    @Override
    public long next(SplittableRandom random) {
      return open ? inner.next(random) : IDLE;
    }

    @Override
    public int footprintPages() {
      return inner.footprintPages();
    }

    @Override
    public String describe() {
      return (open ? "" : "paused ") + inner.describe();
    }
  }

  /** Touches VPN 0..pages-1 in order, {@code passes} times (0: for ever), writing each access or not. */
  static final class Sweep implements Workload {
    private final int pages;
    private final long passes;
    private final boolean writes;
    private final boolean idleWhenDone;
    private int vpn;
    private long pass;

    /** @param idleWhenDone idle after the last pass instead of finishing (the process stays alive) */
    Sweep(int pages, long passes, boolean writes, boolean idleWhenDone) {
      this.pages = pages;
      this.passes = passes;
      this.writes = writes;
      this.idleWhenDone = idleWhenDone;
    }

    @Override
    public long next(SplittableRandom random) {
      if (passes > 0 && pass >= passes) {
        return idleWhenDone ? IDLE : DONE;
      }
      int v = vpn;
      if (++vpn == pages) {
        vpn = 0;
        pass++;
      }
      return Workload.encode(v, writes);
    }

    @Override
    public int footprintPages() {
      return pages;
    }

    @Override
    public String describe() {
      return "sweep " + pages + " pages";
    }
  }

  /** A hot set: {@code hotShare} of the accesses go to the first fifth of the pages, the rest anywhere. */
  static final class Hot implements Workload {
    private final int pages;
    private final double writeFraction;

    Hot(int pages, double writeFraction) {
      this.pages = pages;
      this.writeFraction = writeFraction;
    }

    @Override
    public long next(SplittableRandom random) {
      int hot = Math.max(1, pages / 5);
      int vpn = random.nextDouble() < 0.8 ? random.nextInt(hot) : random.nextInt(pages);
      return Workload.encode(vpn, random.nextDouble() < writeFraction);
    }

    @Override
    public int footprintPages() {
      return pages;
    }

    @Override
    public String describe() {
      return "hot " + pages + " pages";
    }
  }

  /** Never touches anything: keeps a vCPU alive without memory traffic. */
  static Workload idle() {
    return new Workload() {
      @Override
      public long next(SplittableRandom random) {
        return IDLE;
      }

      @Override
      public int footprintPages() {
        return 1;
      }

      @Override
      public String describe() {
        return "idle";
      }
    };
  }
}
