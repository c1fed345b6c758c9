package org.balloonlab.swap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * A swap file could not be created or given its whole size on disk at start: the disk is full, the directory is
 * not writable, or the file system refused. Start-up code turns it into one line and an exit code.
 */
public final class SwapReservationException extends UncheckedIOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long bytes;
  private final long usableBytes;
  private final String reason;

  SwapReservationException(Path file, long bytes, long usableBytes, String reason, IOException cause) {
    super("cannot reserve " + SwapFile.humanBytes(bytes) + " for a swap file at " + file + ": " + reason
        + (usableBytes >= 0 ? " (" + SwapFile.humanBytes(usableBytes) + " free)" : ""), cause);
    this.file = file;
    this.bytes = bytes;
    this.usableBytes = usableBytes;
    this.reason = reason;
  }

  /**
   * The one line a user reads, such as {@code cannot reserve 4GiB of host swap (a 8.0MiB file) in /tmp: No space
   * left on device (1.2MiB free)}.
   *
   * @param what what the file was for, such as {@code 4GiB of host swap}
   */
  public String userMessage(String what) {
    Path dir = file.toAbsolutePath().getParent();
    return "cannot reserve " + what + " (a " + SwapFile.humanBytes(bytes) + " file) in " + (dir == null ? file : dir)
        + ": " + reason + (usableBytes >= 0 ? " (" + SwapFile.humanBytes(usableBytes) + " free)" : "");
  }

  /** The swap file that could not be reserved. */
  public Path file() {
    return file;
  }

  /** Bytes the file needed. */
  public long bytes() {
    return bytes;
  }

  /** Bytes the file system said were free to this process, or -1 if it could not say. */
  public long usableBytes() {
    return usableBytes;
  }

  /** Why, in the operating system's words (such as {@code No space left on device}). */
  public String reason() {
    return reason;
  }
}
