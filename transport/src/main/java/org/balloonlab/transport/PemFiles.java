package org.balloonlab.transport;

import java.nio.file.Files;
import java.nio.file.Path;

/** Checks on the PEM files a flag names, so a wrong path is a clear start-up error, not a TLS failure later. */
final class PemFiles {
  private PemFiles() {
  }

  /** Does nothing for {@code null}; else requires a readable regular file. */
  static void requireReadable(Path file, String flag) {
    if (file == null) {
      return;
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(flag + ": " + file + " is not a file");
    }
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(flag + ": " + file + " cannot be read");
    }
  }
}
