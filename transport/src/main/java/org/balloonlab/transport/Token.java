package org.balloonlab.transport;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A bearer token: 16 to 256 characters of the URL-safe Base64 alphabet ({@code A-Z a-z 0-9 _ -}). A generated one
 * carries 256 random bits from {@link SecureRandom} (43 characters).
 *
 * <p>Its value never appears in {@link #toString()} nor in any message; {@link #matches} compares in constant time
 * (the SHA-256 digests of both sides through {@link MessageDigest#isEqual}, so neither the content nor the length of
 * the secret shows in how long a comparison takes).
 */
public final class Token {
  /** Fewest characters a token may have: 16 characters carry 96 bits, the least we accept from an operator. */
  public static final int MIN_LENGTH = 16;
  /** Most characters a token may have; the bound keeps metadata and files small. */
  public static final int MAX_LENGTH = 256;
  private static final int GENERATED_BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String value;
  private final byte[] digest;

  private Token(String value) {
    this.value = value;
    this.digest = sha256(value);
  }

  /** A new random token (256 bits). */
  public static Token generate() {
    byte[] bytes = new byte[GENERATED_BYTES];
    RANDOM.nextBytes(bytes);
    return new Token(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
  }

  /**
   * A token from text given by a user (a file, an environment variable), surrounding white space removed.
   *
   * @param where what the text came from, for the message, such as {@code "the operator token in FILE"}
   * @throws IllegalArgumentException saying what is wrong, without the text
   */
  public static Token parse(String text, String where) {
    String problem = problem(text == null ? null : text.strip());
    if (problem != null) {
      throw new IllegalArgumentException(where + " " + problem);
    }
    return new Token(text.strip());
  }

  /** Whether {@code text} is a well-formed token; answers without looking at more than {@link #MAX_LENGTH} + 1. */
  public static boolean isWellFormed(String text) {
    return problem(text) == null;
  }

  private static String problem(String text) {
    if (text == null || text.isEmpty()) {
      return "is empty";
    }
    if (text.length() < MIN_LENGTH || text.length() > MAX_LENGTH) {
      return "must be " + MIN_LENGTH + " to " + MAX_LENGTH + " characters long, got "
          + (text.length() > MAX_LENGTH ? "more than " + MAX_LENGTH : String.valueOf(text.length()));
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-';
      if (!ok) {
        return "may hold only the characters A-Z a-z 0-9 _ - (character " + (i + 1) + " is not one of them)";
      }
    }
    return null;
  }

  /** Whether {@code sent} is this token, in time that does not depend on either. */
  public boolean matches(String sent) {
    return MessageDigest.isEqual(digest, sha256(sent));
  }

  /** The token itself, to send or to write to its file; never to log. */
  public String reveal() {
    return value;
  }

  @Override
  public String toString() {
    return "Token[hidden]";
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
