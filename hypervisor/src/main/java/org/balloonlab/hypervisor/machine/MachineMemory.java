package org.balloonlab.hypervisor.machine;

/**
 * Simulated machine memory: the frame table and the frames' contents, indexed by MFN.
 *
 * <p>A frame's content is one 64-bit token instead of 4 KiB of bytes, so a machine of tens of GiB (millions of
 * frames) fits in a few tens of MiB of heap. Per-frame state lives in primitive arrays, 16 bytes a frame:
 * {@code contents} (8), {@code owner} (4, the VM id or 0 when free) and the free stack (4). No object exists per
 * frame, so allocation and page-out never allocate on the heap. A frame shared by content has the owner
 * {@link #SHARED}; its reference count and slot live in the sharing table, so shared frames cost no extra array here.
 *
 * <p>Frames are handed out from a LIFO free stack. Nothing leaks between VMs: every allocation's caller
 * overwrites the whole content (zero for a demand fault, the saved token for a swap-in) before the owner can
 * read it. Not thread-safe: the {@link Machine}'s lock serializes access.
 */
public final class MachineMemory {
  /** Owner value of a free frame. VM ids start at 1. */
  public static final int FREE = 0;
  /**
   * Owner value of a frame shared copy-on-write by content ({@link PageSharing}): the P2Ms that map it are its
   * references, counted in the sharing table, and nobody writes it until the last reference goes.
   */
  public static final int SHARED = -1;

  private final long[] contents;
  private final int[] owner;
  private final int[] freeStack;
  private int freeCount;

  public MachineMemory(int frames) {
    if (frames <= 0) {
      throw new IllegalArgumentException("machine memory needs at least one frame, got " + frames);
    }
    contents = new long[frames];
    owner = new int[frames];
    freeStack = new int[frames];
    // Push in reverse so the first allocations take the lowest MFNs, which makes traces easy to read.
    for (int i = 0; i < frames; i++) {
      freeStack[i] = frames - 1 - i;
    }
    freeCount = frames;
  }

  public int frames() {
    return contents.length;
  }

  public int freeFrames() {
    return freeCount;
  }

  /**
   * Takes a free frame for {@code vmId} without touching its content; the caller must overwrite it at once.
   *
   * @return the MFN, or -1 when no frame is free
   */
  public int allocate(int vmId) {
    if (vmId <= 0) {
      throw new IllegalArgumentException("frames belong to a VM id >= 1, got " + vmId);
    }
    if (freeCount == 0) {
      return -1;
    }
    int mfn = freeStack[--freeCount];
    owner[mfn] = vmId;
    return mfn;
  }

  /** Returns a frame to the free stack. */
  public void free(int mfn) {
    if (owner[mfn] == FREE) {
      throw new IllegalStateException("MFN " + mfn + " is already free");
    }
    owner[mfn] = FREE;
    freeStack[freeCount++] = mfn;
  }

  /** Marks a VM's frame shared: from now on only copy-on-write may change what it holds. */
  void makeShared(int mfn) {
    if (owner[mfn] <= FREE) {
      throw new IllegalStateException("MFN " + mfn + " is not a VM's private frame (owner " + owner[mfn] + ")");
    }
    owner[mfn] = SHARED;
  }

  /** Gives a shared frame whose last reference is {@code vmId}'s back to that VM as a private frame. */
  void makePrivate(int mfn, int vmId) {
    if (owner[mfn] != SHARED || vmId <= 0) {
      throw new IllegalStateException("MFN " + mfn + " is not shared (owner " + owner[mfn] + ")");
    }
    owner[mfn] = vmId;
  }

  public long read(int mfn) {
    return contents[mfn];
  }

  public void write(int mfn, long token) {
    contents[mfn] = token;
  }

  public int owner(int mfn) {
    return owner[mfn];
  }

  /** Heap bytes held per frame by this table, for the memory-footprint benchmark. */
  public static int heapBytesPerFrame() {
    return Long.BYTES + Integer.BYTES + Integer.BYTES;
  }
}
