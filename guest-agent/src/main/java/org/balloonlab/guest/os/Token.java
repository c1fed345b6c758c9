package org.balloonlab.guest.os;

/**
 * The 64-bit content of a page. A frame holds one token instead of 4 KiB of bytes, and the token says who wrote
 * what, so every read can be checked.
 *
 * <pre>
 *  63  62........51 50.....43 42..........16 15.......0
 *  1   vm (12 bits) asid (8)  vpn (27 bits)  version (16)      a private token
 *  0   0 ...                                        0          a zero page
 * </pre>
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

  private Token() {}

  /** The token a write of {@code version} to ({@code vm}, {@code asid}, {@code vpn}) stores; 0 for version 0. */
  public static long of(int vm, int asid, int vpn, int version) {
    if (version == 0) {
      return 0L;
    }
    return PRIVATE | ((long) (vm & 0xFFF) << 51) | ((long) (asid & 0xFF) << 43) | ((long) (vpn & MAX_VPN) << 16)
        | (version & 0xFFFF);
  }

  /** The version after {@code version}, skipping 0 which stands for "never written". */
  public static char nextVersion(char version) {
    return version == Character.MAX_VALUE ? 1 : (char) (version + 1);
  }

  /** Whether {@code value} is a private token written by a VM other than {@code vm}. */
  public static boolean belongsToAnotherVm(long value, int vm) {
    return (value & PRIVATE) != 0 && ((int) (value >>> 51) & 0xFFF) != (vm & 0xFFF);
  }

  /** A readable form for logs: {@code vm3/asid1/vpn42/v7}. */
  public static String describe(long value) {
    if (value == 0) {
      return "zero";
    }
    if ((value & PRIVATE) == 0) {
      return String.format("0x%016x", value);
    }
    return "vm" + ((value >>> 51) & 0xFFF) + "/asid" + ((value >>> 43) & 0xFF) + "/vpn" + ((value >>> 16) & MAX_VPN)
        + "/v" + (value & 0xFFFF);
  }
}
