package org.balloonlab.guest.os;

/**
 * What a guest sets up at boot, before any process runs: its per-page kernel metadata ({@link BootStructures}) and
 * its OS image ({@link ContentImage}). Both are sized here, pinned for the life of the guest and written at boot.
 *
 * @param osKind the guest's {@code os_kind}: guests of one kind boot byte-identical image pages
 * @param imagePages pages of OS image (kernel text, libraries); 0 for none
 * @param metadataRatio boot structures as a fraction of configured memory ({@link BootStructures#DEFAULT_RATIO});
 *     0 for none
 */
public record GuestBoot(String osKind, int imagePages, double metadataRatio) {
  /** No boot structures and no image: the bare guest of the unit tests that predate them. */
  public static final GuestBoot NONE = new GuestBoot("none", 0, 0);
  /**
   * The default OS image: 16 MiB, a modest kernel and its libraries (4096 pages), capped at an eighth of memory for
   * small guests ({@link #defaultImagePages}).
   */
  public static final int DEFAULT_IMAGE_PAGES = 4096;
  /** The largest OS image: what a content token can index, 64 GiB. */
  public static final int MAX_IMAGE_PAGES = Token.MAX_CONTENT_INDEX + 1;
  /** The highest metadata ratio a guest accepts: a quarter of its memory. */
  public static final double MAX_METADATA_RATIO = 0.25;

  public GuestBoot {
    if (osKind == null || osKind.isEmpty()) {
      throw new IllegalArgumentException("a guest needs an os_kind");
    }
    if (imagePages < 0 || imagePages > MAX_IMAGE_PAGES) {
      throw new IllegalArgumentException("the OS image must be 0 to " + MAX_IMAGE_PAGES + " pages, got " + imagePages);
    }
    if (!(metadataRatio >= 0 && metadataRatio <= MAX_METADATA_RATIO)) {
      throw new IllegalArgumentException("the boot metadata ratio must be from 0 to " + MAX_METADATA_RATIO + ", got "
          + metadataRatio);
    }
  }

  /** The default image for a guest of {@code memoryPages}: 16 MiB, or an eighth of its memory if that is less. */
  public static int defaultImagePages(long memoryPages) {
    return (int) Math.min(DEFAULT_IMAGE_PAGES, memoryPages / 8);
  }

  /** A guest of {@code osKind} and {@code memoryPages} with the default image and Linux's metadata ratio. */
  public static GuestBoot defaults(String osKind, long memoryPages) {
    return new GuestBoot(osKind, defaultImagePages(memoryPages), BootStructures.DEFAULT_RATIO);
  }

  /** Pages pinned at boot for a guest of {@code memoryPages}: boot structures plus image. */
  public long pinnedPages(int memoryPages) {
    return BootStructures.pagesFor(memoryPages, metadataRatio) + (long) imagePages;
  }
}
