package org.balloonlab.swap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * The real {@link SlotStore}: a file of 8-byte slots, given its whole size on disk when it is opened and unlinked
 * at once.
 *
 * <p><b>Reserved at start.</b> A sparse file ({@code setLength}) reserves nothing: the disk could fill up under it
 * and the first page-out that needs a new block would fail in the middle of a run. So {@link #reserve} checks the
 * file system's usable space first (for a fast, clear message) and then writes zeroes over the whole file in 1 MiB
 * blocks, which makes the file system allocate every block now (the check alone could race with another writer).
 * A disk without room is then a start-up error, never a failure later. The file holds a token per page, not the
 * page's 4 KiB, so a swap of {@code n} pages costs {@code 8n} bytes: 8 MiB for the hypervisor's default 4 GiB.
 *
 * <p><b>Unlinked once opened.</b> Right after it is opened the file's name is removed while the channel stays open
 * (POSIX semantics): the space stays the process's until the channel closes or the process dies, however it dies
 * (SIGKILL included), and nothing is left on disk to clean up. This is done for a file the user named too: the
 * name only chooses the directory (the disk) and what shows in {@code /proc/PID/fd}; the content is meaningless
 * outside the running process.
 *
 * <p>Not thread-safe: its {@link SwapDevice} serializes access.
 */
public final class SwapFile implements SlotStore {
  /** Zeroes are written in blocks of this size: large enough that a GiB takes a thousand writes. */
  private static final int ZERO_BLOCK = 1 << 20;

  private final Path file;
  private final FileChannel channel;
  private final ByteBuffer buffer = ByteBuffer.allocateDirect(Long.BYTES);

  private SwapFile(Path file, FileChannel channel) {
    this.file = file;
    this.channel = channel;
  }

  /**
   * Creates {@code file} (and its parent directories), unlinks it, and allocates {@code slots} slots on disk.
   *
   * @throws SwapReservationException if it cannot be created or the disk has no room for it; nothing is left on
   *     disk then
   */
  public static SwapFile reserve(Path file, int slots) {
    if (slots <= 0) {
      throw new IllegalArgumentException("a swap file needs at least one slot, got " + slots);
    }
    long bytes = (long) slots * Long.BYTES;
    FileChannel channel;
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw new SwapReservationException(file, bytes, -1, reason(e), e);
    }
    long usable = -1;
    try {
      // Unlinked first, so that even a process killed while it reserves leaves nothing behind.
      Files.delete(file);
      usable = usableSpace(file, channel);
      if (usable >= 0 && usable < bytes) {
        throw new IOException("No space left on device");
      }
      writeZeroes(channel, bytes);
    } catch (IOException e) {
      if (usable >= 0) {
        // What is free after the attempt, which may have eaten into it before it failed.
        usable = Math.max(0, usable - safeSize(channel));
      }
      closeQuietly(channel);
      throw new SwapReservationException(file, bytes, usable, reason(e), e);
    }
    return new SwapFile(file, channel);
  }

  private static long usableSpace(Path file, FileChannel channel) {
    try {
      Path dir = file.toAbsolutePath().getParent();
      return Files.getFileStore(dir == null ? file.toAbsolutePath().getRoot() : dir).getUsableSpace();
    } catch (IOException e) {
      // The file store cannot say: the writes below will.
      return -1;
    }
  }

  private static void writeZeroes(FileChannel channel, long bytes) throws IOException {
    ByteBuffer zeroes = ByteBuffer.allocateDirect((int) Math.min(ZERO_BLOCK, bytes));
    long position = 0;
    while (position < bytes) {
      zeroes.clear();
      zeroes.limit((int) Math.min(zeroes.capacity(), bytes - position));
      while (zeroes.hasRemaining()) {
        position += channel.write(zeroes, position);
      }
    }
  }

  private static long safeSize(FileChannel channel) {
    try {
      return channel.size();
    } catch (IOException e) {
      return 0;
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // Closing gives the space back; there is nothing more to do if it complains.
    }
  }

  private static String reason(IOException e) {
    String message = e.getMessage();
    if (e instanceof java.nio.file.FileAlreadyExistsException) {
      // Only a parent directory can already exist here (the file itself is opened with CREATE): as a plain file.
      message = e.getMessage() + " is not a directory";
    } else if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
      message = fse.getReason();
    } else if (e instanceof java.nio.file.AccessDeniedException) {
      message = "permission denied";
    } else if (e instanceof java.nio.file.NoSuchFileException) {
      message = "no such file or directory";
    }
    return message == null ? e.getClass().getSimpleName() : message;
  }

  /** Where the file was opened; its name no longer exists. */
  public Path file() {
    return file;
  }

  @Override
  public void write(int slot, long token) throws IOException {
    buffer.clear();
    buffer.putLong(token).flip();
    long position = (long) slot * Long.BYTES;
    while (buffer.hasRemaining()) {
      channel.write(buffer, position + buffer.position());
    }
  }

  @Override
  public long read(int slot) throws IOException {
    buffer.clear();
    long position = (long) slot * Long.BYTES;
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, position + buffer.position()) < 0) {
        throw new IOException("unexpected end of file at slot " + slot);
      }
    }
    buffer.flip();
    return buffer.getLong();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  /** A byte count in the largest binary unit it reaches, one decimal: {@code 1.5GiB}. */
  static String humanBytes(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = bytes;
    int unit = 0;
    while (unit < units.length - 1 && value >= 1024) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, unit == 0 ? "%.0f%s" : "%.1f%s", value, units[unit]);
  }
}
