package org.balloonlab.guest.balloon;

import org.balloonlab.domain.kernel.BalloonKernel;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.domain.kernel.OomNotifier;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.vcpu.Vcpu;
import org.balloonlab.swap.SwapIoException;

/**
 * The guest OS as the balloon driver sees it. Every call that touches the OS runs on the vCPU ({@link Vcpu#onCpu}),
 * so the OS stays single-threaded: a driver on a thread of its own has its calls run between two time slices, a
 * driver the vCPU drives is already there. Once the vCPU has stopped, allocations give nothing and frees are
 * dropped (the VM is going away).
 */
public final class GuestBalloonKernel implements BalloonKernel {
  private final GuestOs os;
  private final Vcpu vcpu;
  private volatile MemoryStats lastStats;

  public GuestBalloonKernel(GuestOs os, Vcpu vcpu) {
    this.os = os;
    this.vcpu = vcpu;
  }

  @Override
  public int allocatePages(int[] out, int count) {
    try {
      return vcpu.onCpu(() -> os.allocateBalloonPages(out, count));
    } catch (IllegalStateException stopped) {
      return 0;
    } catch (SwapIoException swapFailed) {
      // A reclaim for the balloon hit a failed swap: the vCPU ends the guest at its next step; nothing was taken.
      return 0;
    }
  }

  @Override
  public void freePages(int[] pfns, int count) {
    try {
      vcpu.onCpu(() -> {
        os.freeBalloonPages(pfns, count);
        return null;
      });
    } catch (IllegalStateException stopped) {
      // The vCPU is gone and the VM with it; the pages need no home.
    }
  }

  @Override
  public MemoryStats stats() {
    try {
      lastStats = vcpu.onCpu(os::memoryStats);
    } catch (IllegalStateException stopped) {
      // Keep the last figures.
    }
    MemoryStats s = lastStats;
    return s != null ? s : new MemoryStats(0, 0, 0, 0, 0, os.memoryPages(), 0);
  }

  @Override
  public long totalPages() {
    return os.memoryPages();
  }

  @Override
  public void registerOomNotifier(OomNotifier notifier) {
    os.registerOomNotifier(notifier);
  }
}
