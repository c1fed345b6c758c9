package org.balloonlab.swap;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.stream.Stream;

/** Finds this process's open, unlinked files through Linux's {@code /proc}: how tests see an unlinked swap file. */
final class OpenFiles {
  private static final Path FDS = Paths.get("/proc/self/fd");

  private OpenFiles() {}

  /** The {@code /proc/self/fd} entry through which the unlinked {@code file} can still be read. */
  static Path deletedFileOf(Path file) throws IOException {
    assumeTrue(Files.isDirectory(FDS), "needs Linux /proc to find an unlinked file");
    Path found = find(file);
    if (found == null) {
      throw new AssertionError("no open descriptor for " + file + " (deleted)");
    }
    return found;
  }

  static boolean isOpen(Path file) throws IOException {
    return find(file) != null;
  }

  private static Path find(Path file) throws IOException {
    String deleted = file.toAbsolutePath() + " (deleted)";
    try (Stream<Path> fds = Files.list(FDS)) {
      return fds.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).toString().equals(deleted);
        } catch (IOException e) {
          return false;
        }
      }).findFirst().orElse(null);
    }
  }

  /** Bytes the file system allocated to {@code file}, as {@code stat} counts its blocks. */
  static long allocatedBytes(Path fd) throws IOException, InterruptedException {
    // /proc/self in a child would be the child's: name this process.
    Path mine = Paths.get("/proc", Long.toString(ProcessHandle.current().pid()), "fd", fd.getFileName().toString());
    Process stat = new ProcessBuilder("stat", "-L", "-c", "%b %B", mine.toString()).redirectErrorStream(true).start();
    String out = new String(stat.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (stat.waitFor() != 0) {
      throw new AssertionError("stat failed: " + out);
    }
    String[] parts = out.split(" ");
    return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
  }
}
