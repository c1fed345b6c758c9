package org.balloonlab.guest.os;

/**
 * The 64-bit content of a page. A frame holds one token instead of 4 KiB of bytes, and the token says who wrote
 * what, so every read can be checked.
 *
 * <pre>
 *  63  62........51 50.....43 42..........16 15.......0
 *  1   vm (12 bits) asid (8)  vpn (27 bits)  version (16)      a private token
 *  0   0 ...                                        0          a zero page
 *  0   kind (7, not 0)  name hash (32 bits)  page index (24 bits)  a content token (shared kinds)
 *  0   kind (7, not 0)  vm (12)  page index (24)  version (20)     a content token (per-VM kinds)
 * </pre>
 *
 * <p><b>Content tokens</b> (bit 63 clear, a non-zero kind in bits 62..56, so never 0 and never a private token)
 * name what a page holds by where the content comes from rather than who wrote it. The <em>shared</em> kinds,
 * {@link #KIND_OS_IMAGE} and {@link #KIND_DATA_SET}, depend only on a name ({@code os_kind}, a data set's name,
 * hashed with {@link #hashName}) and a page index: two VMs that boot the same {@code os_kind} or name the same data
 * set hold equal tokens, which is what the hypervisor's page sharing compares. They belong to no VM, so
 * {@link #belongsToAnotherVm} is false for them. The <em>per-VM</em> kinds, {@link #KIND_KERNEL_DATA} (the boot
 * structures) and {@link #KIND_FILE} (page-cache pages), carry the VM's id like a private token and never equal
 * another VM's. A write by a process to a page holding a content token makes it private, as any write does.
 *
 * A guest remembers only each page's version (a {@code char}, 2 bytes per virtual page) and rebuilds the token
 * it expects. Version 0 means never written, whose content is zero. Versions wrap from 65535 to 1; a read
 * returning a value exactly 65535 writes stale would go unnoticed, which no workload comes near. The VM field
 * holds the low 12 bits of the VM id, so a read returning another VM's token is recognized as an isolation
 * violation (ids 4096 apart alias, far beyond any lab).
 */
public final class Token {
  public static final int MAX_ASID = (1 << 8) - 1;
  public static final int MAX_VPN = (1 << 27) - 1;
  private static final long PRIVATE = 1L << 63;
  /** The OS image a guest boots (kernel text, libraries): shared by every VM of one {@code os_kind}. */
  public static final int KIND_OS_IMAGE = 1;
  /** A data set a workload reads: shared by every VM whose workload names the same set. */
  public static final int KIND_DATA_SET = 2;
  /** The guest kernel's boot structures (per-page metadata): this VM's alone. */
  public static final int KIND_KERNEL_DATA = 3;
  /** A page of a file in the guest's page cache: this VM's alone, versioned like a private page. */
  public static final int KIND_FILE = 4;
  /** Pages a shared content token can index: 2^24 (64 GiB). */
  public static final int MAX_CONTENT_INDEX = (1 << 24) - 1;
  /** Versions of a per-VM content token: 20 bits, wrapping past 0 like a private token's. */
  private static final int VERSION_MASK_20 = (1 << 20) - 1;

  private Token() {}

  /** The token a write of {@code version} to ({@code vm}, {@code asid}, {@code vpn}) stores; 0 for version 0. */
  public static long of(int vm, int asid, int vpn, int version) {
    if (version == 0) {
      return 0L;
    }
    return PRIVATE | ((long) (vm & 0xFFF) << 51) | ((long) (asid & 0xFF) << 43) | ((long) (vpn & MAX_VPN) << 16)
        | (version & 0xFFFF);
  }

  /**
   * A shared content token: what page {@code index} of the content named by {@code nameHash} holds.
   *
   * @param kind {@link #KIND_OS_IMAGE} or {@link #KIND_DATA_SET}
   */
  public static long content(int kind, int nameHash, int index) {
    if (kind != KIND_OS_IMAGE && kind != KIND_DATA_SET) {
      throw new IllegalArgumentException("not a shared content kind: " + kind);
    }
    checkIndex(index);
    return ((long) kind << 56) | ((nameHash & 0xFFFF_FFFFL) << 24) | index;
  }

  /** The token of boot-structure page {@code index} of VM {@code vm}, as the kernel writes it at boot. */
  public static long kernelData(int vm, int index) {
    return perVm(KIND_KERNEL_DATA, vm, index, 1);
  }

  /** The token of file page {@code index} of VM {@code vm} after {@code version} writes; 0 for version 0. */
  public static long file(int vm, int index, int version) {
    return version == 0 ? 0L : perVm(KIND_FILE, vm, index, version);
  }

  private static long perVm(int kind, int vm, int index, int version) {
    checkIndex(index);
    return ((long) kind << 56) | ((long) (vm & 0xFFF) << 44) | ((long) index << 20) | (version & VERSION_MASK_20);
  }

  private static void checkIndex(int index) {
    if (index < 0 || index > MAX_CONTENT_INDEX) {
      throw new IllegalArgumentException("a content page index must be 0 to " + MAX_CONTENT_INDEX + ", got " + index);
    }
  }

  /** The kind of a content token (1 to 127), or 0 for a private token or zero. */
  public static int kind(long value) {
    return (value & PRIVATE) != 0 ? 0 : (int) (value >>> 56) & 0x7F;
  }

  /**
   * A 32-bit FNV-1a hash of {@code name}'s UTF-8 bytes: the same in every JVM, so guests in separate processes that
   * name the same {@code os_kind} or data set derive the same tokens.
   */
  public static int hashName(String name) {
    int h = 0x811C_9DC5;
    for (byte b : name.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      h ^= b & 0xFF;
      h *= 0x0100_0193;
    }
    return h;
  }

  /** The version after {@code version}, skipping 0 which stands for "never written". */
  public static char nextVersion(char version) {
    return version == Character.MAX_VALUE ? 1 : (char) (version + 1);
  }

  /** Whether {@code value} is a private token written by a VM other than {@code vm}. */
  public static boolean belongsToAnotherVm(long value, int vm) {
    if ((value & PRIVATE) != 0) {
      return ((int) (value >>> 51) & 0xFFF) != (vm & 0xFFF);
    }
    int kind = kind(value);
    // Shared content belongs to no VM; the per-VM kinds carry their VM like a private token.
    return (kind == KIND_KERNEL_DATA || kind == KIND_FILE) && ((int) (value >>> 44) & 0xFFF) != (vm & 0xFFF);
  }

  /** A readable form for logs: {@code vm3/asid1/vpn42/v7}. */
  public static String describe(long value) {
    if (value == 0) {
      return "zero";
    }
    if ((value & PRIVATE) == 0) {
      int kind = kind(value);
      return switch (kind) {
        case KIND_OS_IMAGE, KIND_DATA_SET -> (kind == KIND_OS_IMAGE ? "image/" : "data/")
            + String.format("%08x", (value >>> 24) & 0xFFFF_FFFFL) + "/page" + (value & MAX_CONTENT_INDEX);
        case KIND_KERNEL_DATA, KIND_FILE -> (kind == KIND_FILE ? "file/vm" : "kernel/vm") + ((value >>> 44) & 0xFFF)
            + "/page" + ((value >>> 20) & MAX_CONTENT_INDEX) + "/v" + (value & VERSION_MASK_20);
        default -> String.format("0x%016x", value);
      };
    }
    return "vm" + ((value >>> 51) & 0xFFF) + "/asid" + ((value >>> 43) & 0xFF) + "/vpn" + ((value >>> 16) & MAX_VPN)
        + "/v" + (value & 0xFFFF);
  }
}
