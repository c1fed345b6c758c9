package org.balloonlab.lab.dashboard;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.balloonlab.transport.Token;

/**
 * Who may use the dashboard, and how a browser proves it (docs/dashboard.md, "Signing in").
 *
 * <p>A browser gets a <b>session</b> (an HTTP-only, {@code SameSite=Strict} cookie) in one of two ways: by opening
 * the one-time sign-in address the dashboard wrote to a file only its owner can read ({@link #writeSignInFile}),
 * or by pasting the hypervisor's operator token into the page's form. The address works once; the token is
 * compared in constant time ({@link Token#matches}). Neither is ever printed or logged.
 *
 * <p>Every request but the page itself, its scripts and the sign-in needs a session (else 401). Against
 * cross-site requests: a request's {@code Host} must name the dashboard itself (no DNS rebinding), a state-changing
 * request ({@code POST}) must come from the dashboard's own origin ({@code Origin}, else 403) and carry the
 * session's anti-forgery value in a header a cross-site form cannot set (else 403), and the cookie is
 * {@code SameSite=Strict}.
 */
public final class DashboardAuth {
  /** The session cookie's name. */
  static final String COOKIE = "balloonlab_session";
  /** The header that carries a session's anti-forgery value on a control request. */
  static final String CSRF_HEADER = "X-BalloonLab-Csrf";
  /** At most this many sessions at once; beyond, one of them is dropped for the new one. */
  private static final int MAX_SESSIONS = 64;

  private final Token operator;
  private final AtomicReference<Token> signInCode = new AtomicReference<>(Token.generate());
  /** Session id to its anti-forgery value. */
  private final Map<String, Token> sessions = new ConcurrentHashMap<>();
  private final List<String> hosts;

  /**
   * @param operator the hypervisor's operator token, which a person may paste to sign in; {@code null} if unknown
   * @param hosts the {@code Host} header values that name this dashboard ({@code 127.0.0.1:8080}...); empty to
   *     accept any (a dashboard that listens on every address)
   */
  DashboardAuth(Token operator, List<String> hosts) {
    this.operator = operator;
    this.hosts = hosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
  }

  /**
   * Writes the one-time sign-in address {@code base/login?code=...} to {@code file}, readable and writable by its
   * owner only from the moment it exists (written under a temporary name, then moved into place).
   */
  void writeSignInFile(String base, Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, ".dashboard-login", ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(tmp, base + "login?code=" + signInCode.get().reveal() + "\n");
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Whether {@code host} (a request's {@code Host} header) names this dashboard. */
  boolean hostAllowed(String host) {
    return hosts.isEmpty() || host != null && hosts.contains(host.toLowerCase(Locale.ROOT));
  }

  /** Whether {@code origin} (a request's {@code Origin} header) is this dashboard's own, served at {@code host}. */
  static boolean sameOrigin(String origin, String host) {
    return origin != null && host != null && origin.equalsIgnoreCase("http://" + host);
  }

  /** A new session if {@code code} is the unused sign-in code (which is then used up), else {@code null}. */
  String signInWithCode(String code) {
    Token current = signInCode.get();
    if (code == null || current == null || !current.matches(code) || !signInCode.compareAndSet(current, null)) {
      return null;
    }
    return newSession();
  }

  /** A new session if {@code token} is the operator token, else {@code null}. */
  String signInWithToken(String token) {
    return operator != null && token != null && operator.matches(token) ? newSession() : null;
  }

  private String newSession() {
    if (sessions.size() >= MAX_SESSIONS) {
      sessions.keySet().stream().findFirst().ifPresent(sessions::remove);
    }
    String id = Token.generate().reveal();
    sessions.put(id, Token.generate());
    return id;
  }

  /** The session a {@code Cookie} header carries, if it is one of ours; else {@code null}. */
  String session(List<String> cookieHeaders) {
    if (cookieHeaders == null) {
      return null;
    }
    for (String header : cookieHeaders) {
      for (String part : header.split(";")) {
        String p = part.strip();
        if (p.startsWith(COOKIE + "=")) {
          String id = p.substring(COOKIE.length() + 1);
          if (Token.isWellFormed(id) && sessions.containsKey(id)) {
            return id;
          }
        }
      }
    }
    return null;
  }

  /** The anti-forgery value of {@code session}, which the page sends back in {@link #CSRF_HEADER}. */
  String csrf(String session) {
    Token t = sessions.get(session);
    return t == null ? null : t.reveal();
  }

  /** Whether {@code sent} is {@code session}'s anti-forgery value (compared in constant time). */
  boolean csrfMatches(String session, String sent) {
    Token expected = session == null ? null : sessions.get(session);
    return expected != null && sent != null && expected.matches(sent);
  }

  /** The {@code Set-Cookie} value that gives a browser {@code session}. */
  static String cookie(String session) {
    return COOKIE + "=" + session + "; Path=/; HttpOnly; SameSite=Strict";
  }
}
