package org.balloonlab.transport;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where tokens live and how they are read and written.
 *
 * <p>A hypervisor writes the tokens it generated into its state directory, by default
 * {@code ~/.balloonlab/hypervisors/<host>_<port>/}: the directory is created {@code rwx------} and each file is
 * created {@code rw-------} under a temporary name, written, then moved into place, so no other user can ever read
 * it, not even for an instant; an existing directory that others may enter is refused rather than tightened behind
 * the owner's back. On a file system without POSIX permissions (Windows) the files get the default permissions of
 * the user's profile.
 *
 * <p>A client looks for a token by flag (a file), then by environment variable, then in the state directory of the
 * hypervisor it talks to ({@link #find}).
 */
public final class TokenFiles {
  private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  /** Most bytes read from a token file: a token and a line end, with room to say the file is too long. */
  private static final int MAX_FILE_BYTES = Token.MAX_LENGTH + 64;

  private TokenFiles() {
  }

  /** {@code ~/.balloonlab/hypervisors}, where each hypervisor has its state directory. */
  public static Path stateRoot() {
    return Path.of(System.getProperty("user.home"), ".balloonlab", "hypervisors");
  }

  /** The default state directory of the hypervisor at {@code host:port}. */
  public static Path defaultStateDir(String host, int port) {
    return stateRoot().resolve(directoryName(host, port));
  }

  /** {@code <host>_<port>}, with characters a file name cannot hold (an IPv6 address's colons) replaced. */
  static String directoryName(String host, int port) {
    return host.replaceAll("[^A-Za-z0-9._-]", "_") + "_" + port;
  }

  /**
   * Reads a token from {@code file}.
   *
   * @throws IllegalArgumentException if the file cannot be read or holds no well-formed token, saying which file
   *     and what is wrong, never what it holds
   */
  public static Token read(Path file, TokenKind kind) {
    byte[] bytes;
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new IllegalArgumentException("the " + kind.word() + " token file " + file + " is larger than "
            + MAX_FILE_BYTES + " bytes; it should hold one token");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("the " + kind.word() + " token file " + file + " does not exist");
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the " + kind.word() + " token file " + file + ": " + e);
    }
    return Token.parse(new String(bytes, StandardCharsets.UTF_8), "the " + kind.word() + " token in " + file);
  }

  /**
   * The token a process was given, by a file named on its command line or else by its environment.
   *
   * @param file the file of the token's flag, or {@code null}
   * @return the token, or empty if neither gives one
   * @throws IllegalArgumentException if the one given is unreadable or malformed
   */
  public static Optional<Token> given(TokenKind kind, Path file, Map<String, String> env) {
    if (file != null) {
      return Optional.of(read(file, kind));
    }
    String text = env.get(kind.environmentVariable());
    if (text != null) {
      return Optional.of(Token.parse(text, "the " + kind.word() + " token in $" + kind.environmentVariable()));
    }
    return Optional.empty();
  }

  /**
   * The token a client sends to the hypervisor at {@code host:port}: by flag, by environment, or else from the
   * hypervisor's state directory on this machine ({@link #candidateDirs}).
   *
   * @return the token, or empty if none is found
   * @throws IllegalArgumentException if a token given by flag or environment is unreadable or malformed
   */
  public static Optional<Token> find(TokenKind kind, Path file, Map<String, String> env, String host, int port) {
    Optional<Token> given = given(kind, file, env);
    if (given.isPresent()) {
      return given;
    }
    for (Path dir : candidateDirs(host, port)) {
      Path f = dir.resolve(kind.fileName());
      if (Files.isRegularFile(f)) {
        return Optional.of(read(f, kind));
      }
    }
    return Optional.empty();
  }

  /**
   * The state directories a client on this machine tries for {@code host:port}: the one named by that address,
   * then those of a hypervisor listening on every address ({@code 0.0.0.0}) or on loopback with that port.
   */
  public static List<Path> candidateDirs(String host, int port) {
    Set<String> hosts = new LinkedHashSet<>(List.of(host, "0.0.0.0", "127.0.0.1", "localhost", "::"));
    List<Path> dirs = new ArrayList<>();
    for (String h : hosts) {
      dirs.add(defaultStateDir(h, port));
    }
    return dirs;
  }

  /**
   * Writes {@code token} to {@code dir/<kind's file>}, readable by its owner only, creating {@code dir} (and its
   * missing parents) for its owner only.
   *
   * @return the file written
   * @throws IOException if the directory or file cannot be made, or {@code dir} exists and others may enter it
   */
  public static Path writeOwnerOnly(Path dir, TokenKind kind, Token token) throws IOException {
    ensurePrivateDirectory(dir);
    Path file = dir.resolve(kind.fileName());
    Path tmp = dir.resolve("." + kind.fileName() + ".tmp");
    Files.deleteIfExists(tmp);
    if (posix()) {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_FILE));
    } else {
      Files.createFile(tmp);
    }
    try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      out.write((token.reveal() + "\n").getBytes(StandardCharsets.UTF_8));
    }
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    return file;
  }

  /**
   * Creates {@code dir} and its missing parents for their owner only ({@code rwx------}), or checks that an
   * existing {@code dir} is its owner's only.
   *
   * @throws IOException if {@code dir} exists and its group or others may read or enter it
   */
  public static void ensurePrivateDirectory(Path dir) throws IOException {
    if (!posix()) {
      Files.createDirectories(dir);
      return;
    }
    if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
      if (!OWNER_DIR.containsAll(perms)) {
        throw new IOException("the state directory " + dir + " may be read by other users ("
            + PosixFilePermissions.toString(perms) + "); run chmod 700 on it or choose another with --state-dir");
      }
      return;
    }
    // Made one level at a time so each new level is created private, whatever the umask.
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null && !Files.exists(parent)) {
      ensurePrivateDirectory(parent);
    }
    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
  }

  private static boolean posix() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }
}
