package org.balloonlab.units;

/**
 * The exit codes of every BalloonLab process ({@code balloonlab} and its commands, the hypervisor, the guest
 * agent), in one place so that the code, {@code --help} and {@code docs/exit-codes.md} say the same. Codes 0, 1
 * and 2 follow picocli's conventions; 128 + N is the JVM's exit after signal N, which BalloonLab's shutdown hooks
 * keep (a process stopped by a signal stops cleanly and exits with it).
 */
public final class ExitCodes {
  private ExitCodes() {}

  /** The process did what it was asked and every check passed. */
  public static final int OK = 0;
  /**
   * The run failed: a guest ended badly, a guest's audit found integrity or isolation violations, or an
   * unexpected error (its stack trace is in the process's log).
   */
  public static final int FAILED = 1;
  /** A bad command line or scenario file (picocli's usage-error code): nothing was started. */
  public static final int USAGE = 2;
  /**
   * The process cannot start: a resource it needs is unavailable, such as the port to listen on or the space for
   * a swap file.
   */
  public static final int CANNOT_START = 3;
  /**
   * The hypervisor went away or cannot be reached: a guest lost it mid-run (it exited, or a partition cut it off),
   * or a command could not reach it.
   */
  public static final int HYPERVISOR_LOST = 4;
  /** The hypervisor refused a call: a guest's power-on (a name taken, no memory to reserve) or a command. */
  public static final int HYPERVISOR_REFUSED = 5;
  /** A swap device (the guest's, or the hypervisor's host swap file) failed with an I/O error mid-run. */
  public static final int SWAP_IO_FAILED = 6;
  /** The guest ran out of memory and swap. */
  public static final int OUT_OF_MEMORY = 7;
  /**
   * Interrupted: Ctrl-C (SIGINT, 128 + 2), or a child whose launcher went away ({@code --exit-with-parent}). A
   * launcher interrupted at any moment still writes the report of what ran.
   */
  public static final int INTERRUPTED = 130;
  /** Stopped by SIGTERM (128 + 15), which a BalloonLab process handles as a clean stop. */
  public static final int TERMINATED = 143;
}
