package org.balloonlab.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenFilesTest {
  @TempDir
  Path tmp;
  private String home;

  @BeforeEach
  void homeInTemp() {
    home = System.getProperty("user.home");
    System.setProperty("user.home", tmp.resolve("home").toString());
  }

  @AfterEach
  void restoreHome() {
    System.setProperty("user.home", home);
  }

  @Test
  void writtenTokensAreReadableByTheirOwnerOnlyInAPrivateDirectory() throws IOException {
    Path dir = TokenFiles.defaultStateDir("0.0.0.0", 7400);
    assertEquals(tmp.resolve("home/.balloonlab/hypervisors/0.0.0.0_7400"), dir);
    Token t = Token.generate();
    Path file = TokenFiles.writeOwnerOnly(dir, TokenKind.OPERATOR, t);
    assertEquals(dir.resolve("operator.token"), file);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    // The parents it created are private too.
    assertEquals("rwx------", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(tmp.resolve("home/.balloonlab"))));
    assertTrue(TokenFiles.read(file, TokenKind.OPERATOR).matches(t.reveal()));
    // Rewritten in place (a restart): still the owner's only, no temporary file left.
    Token u = Token.generate();
    TokenFiles.writeOwnerOnly(dir, TokenKind.OPERATOR, u);
    assertTrue(TokenFiles.read(file, TokenKind.OPERATOR).matches(u.reveal()));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    try (var files = Files.list(dir)) {
      assertEquals(1, files.count());
    }
  }

  @Test
  void aStateDirectoryOthersMayEnterIsRefused() throws IOException {
    Path open = Files.createDirectory(tmp.resolve("open"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
    IOException e = assertThrows(IOException.class,
        () -> TokenFiles.writeOwnerOnly(open, TokenKind.LAB, Token.generate()));
    assertEquals("the state directory " + open + " may be read by other users (rwxr-xr-x); run chmod 700 on it or "
        + "choose another with --state-dir", e.getMessage());
    try (var files = Files.list(open)) {
      assertEquals(0, files.count());
    }
  }

  @Test
  void badFilesAreRefusedWithClearMessages() throws IOException {
    Path missing = tmp.resolve("nope.token");
    assertEquals("the lab token file " + missing + " does not exist", assertThrows(IllegalArgumentException.class,
        () -> TokenFiles.read(missing, TokenKind.LAB)).getMessage());
    Path bad = Files.writeString(tmp.resolve("bad.token"), "not a token!\n");
    assertEquals("the operator token in " + bad + " must be 16 to 256 characters long, got 12",
        assertThrows(IllegalArgumentException.class, () -> TokenFiles.read(bad, TokenKind.OPERATOR)).getMessage());
    Path big = Files.writeString(tmp.resolve("big.token"), "A".repeat(10_000));
    assertEquals("the operator token file " + big + " is larger than 320 bytes; it should hold one token",
        assertThrows(IllegalArgumentException.class, () -> TokenFiles.read(big, TokenKind.OPERATOR)).getMessage());
  }

  @Test
  void aFlagComesBeforeTheEnvironmentWhichComesBeforeTheStateDirectory() throws IOException {
    Token inDir = Token.generate();
    Token inEnv = Token.generate();
    Token inFile = Token.generate();
    TokenFiles.writeOwnerOnly(TokenFiles.defaultStateDir("0.0.0.0", 7401), TokenKind.OPERATOR, inDir);
    Path file = Files.writeString(tmp.resolve("op.token"), inFile.reveal());
    Map<String, String> env = Map.of("BALLOONLAB_OPERATOR_TOKEN", inEnv.reveal());
    // A hypervisor on every address is found by a client dialing loopback.
    assertTrue(TokenFiles.find(TokenKind.OPERATOR, null, Map.of(), "127.0.0.1", 7401).orElseThrow()
        .matches(inDir.reveal()));
    assertTrue(TokenFiles.find(TokenKind.OPERATOR, null, env, "127.0.0.1", 7401).orElseThrow()
        .matches(inEnv.reveal()));
    assertTrue(TokenFiles.find(TokenKind.OPERATOR, file, env, "127.0.0.1", 7401).orElseThrow()
        .matches(inFile.reveal()));
    assertEquals(Optional.empty(), TokenFiles.find(TokenKind.OPERATOR, null, Map.of(), "127.0.0.1", 7402));
    assertEquals(Optional.empty(), TokenFiles.find(TokenKind.LAB, null, Map.of(), "127.0.0.1", 7401));
    assertEquals("the lab token in $BALLOONLAB_LAB_TOKEN is empty", assertThrows(IllegalArgumentException.class,
        () -> TokenFiles.given(TokenKind.LAB, null, Map.of("BALLOONLAB_LAB_TOKEN", ""))).getMessage());
  }
}
