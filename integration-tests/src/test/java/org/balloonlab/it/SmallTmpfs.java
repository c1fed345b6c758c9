package org.balloonlab.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small tmpfs mounted for one test: a disk that really fills up. Mounting needs root and {@code mount}; without
 * them the test is skipped (an assumption, so the report says why), never passed silently. Closing unmounts it.
 */
final class SmallTmpfs implements AutoCloseable {
  private final Path dir;

  private SmallTmpfs(Path dir) {
    this.dir = dir;
  }

  /** Mounts a tmpfs of {@code size} (such as {@code 8m}) on a new directory under {@code parent}. */
  static SmallTmpfs mount(Path parent, String size) throws IOException, InterruptedException {
    String uid = run(List.of("id", "-u")).output().trim();
    assumeTrue(uid.equals("0"), "mounting a small tmpfs needs root; this test runs as uid " + uid);
    Files.createDirectories(parent);
    Path dir = Files.createTempDirectory(parent.toAbsolutePath(), "tmpfs-");
    Result r = run(List.of("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()));
    if (r.code() != 0) {
      Files.deleteIfExists(dir);
    }
    assumeTrue(r.code() == 0, "mount -t tmpfs failed (exit " + r.code() + "): " + r.output().trim());
    return new SmallTmpfs(dir);
  }

  Path dir() {
    return dir;
  }

  /** Bytes free on the tmpfs. */
  long usableBytes() throws IOException {
    return Files.getFileStore(dir).getUsableSpace();
  }

  @Override
  public void close() throws IOException, InterruptedException {
    Result r = run(List.of("umount", dir.toString()));
    if (r.code() != 0) {
      // Busy (a process still holds a file): detach it now, the kernel frees it when the last holder goes.
      run(List.of("umount", "-l", dir.toString()));
    }
    Files.deleteIfExists(dir);
  }

  private record Result(int code, String output) {}

  private static Result run(List<String> command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      return new Result(127, command.get(0) + ": " + e.getMessage());
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Result(124, command + " timed out");
    }
    return new Result(p.exitValue(), out);
  }
}
