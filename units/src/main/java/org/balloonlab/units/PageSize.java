package org.balloonlab.units;

/** The page size, 4 KiB, everywhere in BalloonLab: guest pages (PFN), machine frames (MFN) and virtual pages. */
public final class PageSize {
  public static final int BYTES = 4096;
  public static final int SHIFT = 12;

  private PageSize() {}
}
