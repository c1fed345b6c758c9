package org.balloonlab.guest.workload;

import java.util.SplittableRandom;
import org.balloonlab.units.MemorySize;

/**
 * A dbench-like load: reads and writes of a file through the guest's page cache, between accesses to the process's
 * own memory. A share of the operations ({@code file-share}, half by default) go to the file, most of them to a hot
 * part of it (as {@link HotSet} does for memory), so a cache that holds the hot part serves most reads; the rest
 * touch the process's memory uniformly. Its throughput is file operations per second of simulated time, which the
 * guest's summary reports.
 */
final class FileWorkload extends SpecWorkload {
  private final int hotPages;

  FileWorkload(WorkloadSpec spec) {
    super(spec);
    int files = spec.filePages();
    this.hotPages = Math.max(1, Math.min(files, (int) (files * spec.hotFraction())));
  }

  @Override
  public long next(SplittableRandom random) {
    if (limitReached()) {
      return DONE;
    }
    done++;
    if (random.nextDouble() < spec.fileShare()) {
      int files = spec.filePages();
      int page = random.nextDouble() < spec.hotShare() || hotPages == files
          ? random.nextInt(hotPages)
          : hotPages + random.nextInt(files - hotPages);
      return Workload.encodeFile(page, random.nextDouble() < spec.writeFraction());
    }
    return access(random.nextInt(spec.footprintPages()), random);
  }

  @Override
  public String describe() {
    return "files " + MemorySize.humanPages(spec.filePages()) + " (memory "
        + MemorySize.humanPages(spec.footprintPages()) + ")";
  }
}
