package org.balloonlab.hypervisor.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.balloonlab.transport.ServerTls;
import org.balloonlab.transport.Token;
import org.balloonlab.transport.TokenFiles;
import org.balloonlab.transport.TokenKind;
import org.balloonlab.units.HostPort;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The hypervisor's flags for tokens and TLS (docs/security.md), and what it does with them at start: tokens
 * given by flag or environment are used as they are; missing ones are generated and written, readable by their
 * owner only, to the state directory once the port is known; TLS files are checked before the server starts.
 */
final class SecurityOptions {
  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Where the tokens this hypervisor generates are written, readable by you only "
          + "(default: ~/.balloonlab/hypervisors/<host>_<port>/, where clients on this machine look for them).")
  Path stateDir;

  @Option(names = "--operator-token-file", paramLabel = "FILE",
      description = "Take the operator token (needed by balloon, driver, poweroff and the launcher's clock) from "
          + "this file instead of generating one; or set $BALLOONLAB_OPERATOR_TOKEN.")
  Path operatorTokenFile;

  @Option(names = "--lab-token-file", paramLabel = "FILE",
      description = "Take the lab token (needed to power a VM on and by every guest) from this file instead of "
          + "generating one; or set $BALLOONLAB_LAB_TOKEN. Read-only views (status, events) need no token from "
          + "this machine (loopback) and the lab or operator token from any other.")
  Path labTokenFile;

  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "Serve TLS with this certificate (PEM); with --tls-key. See balloonlab certs.")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "The private key of --tls-cert (PEM, PKCS#8).")
  Path tlsKey;

  @Option(names = "--tls-client-ca", paramLabel = "FILE",
      description = "Require every client to show a certificate signed by this CA (mutual TLS).")
  Path tlsClientCa;

  private Token operator;
  private Token lab;
  private boolean operatorGenerated;
  private boolean labGenerated;
  private ServerTls tls;
  private final List<Path> written = new ArrayList<>();

  /**
   * Reads or generates the tokens and checks the TLS files.
   *
   * @throws CommandLine.ParameterException saying which flag or variable is wrong
   */
  void resolve(CommandLine cl, Map<String, String> env) {
    try {
      Optional<Token> o = TokenFiles.given(TokenKind.OPERATOR, operatorTokenFile, env);
      Optional<Token> l = TokenFiles.given(TokenKind.LAB, labTokenFile, env);
      operatorGenerated = o.isEmpty();
      labGenerated = l.isEmpty();
      operator = o.orElseGet(Token::generate);
      lab = l.orElseGet(Token::generate);
      tls = new ServerTls(tlsCert, tlsKey, tlsClientCa);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, e.getMessage());
    }
    if (operator.matches(lab.reveal())) {
      throw new CommandLine.ParameterException(cl, "the operator and the lab token must differ: the lab token is "
          + "handed to students, the operator token is not");
    }
  }

  boolean operatorGenerated() {
    return operatorGenerated;
  }

  boolean labGenerated() {
    return labGenerated;
  }

  Token operator() {
    return operator;
  }

  Token lab() {
    return lab;
  }

  ServerTls tls() {
    return tls;
  }

  /** The state directory of the hypervisor bound to {@code bound}. */
  Path stateDir(HostPort bound) {
    return stateDir != null ? stateDir : TokenFiles.defaultStateDir(bound.host(), bound.port());
  }

  /**
   * Writes the generated tokens to the state directory.
   *
   * @return the directory, or empty if every token was given
   */
  Optional<Path> writeGenerated(HostPort bound) throws IOException {
    if (!operatorGenerated && !labGenerated) {
      return Optional.empty();
    }
    Path dir = stateDir(bound);
    if (operatorGenerated) {
      written.add(TokenFiles.writeOwnerOnly(dir, TokenKind.OPERATOR, operator));
    }
    if (labGenerated) {
      written.add(TokenFiles.writeOwnerOnly(dir, TokenKind.LAB, lab));
    }
    return Optional.of(dir);
  }

  /**
   * Removes the token files written at start: the tokens die with the hypervisor. The default state directory
   * goes too if nothing else is in it (one is made per address, and ports taken at random would pile them up).
   */
  void removeWritten() {
    for (Path p : written) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        // Left for the owner to remove; only the owner can read it.
      }
    }
    if (stateDir == null && !written.isEmpty()) {
      try {
        Files.deleteIfExists(written.get(0).getParent());
      } catch (IOException e) {
        // Not empty, or already gone: left as it is.
      }
    }
  }

  /** How a client gets the operator token, for refusals. */
  String operatorHint(HostPort bound) {
    return operatorGenerated
        ? "it is in " + stateDir(bound).resolve(TokenKind.OPERATOR.fileName()) + " on the hypervisor's machine, "
            + "where balloonlab commands find it; elsewhere give --operator-token-file FILE or "
            + "$BALLOONLAB_OPERATOR_TOKEN"
        : "give the token the hypervisor was started with by --operator-token-file FILE or "
            + "$BALLOONLAB_OPERATOR_TOKEN";
  }

  /** How a client gets the lab token, for refusals. */
  String labHint(HostPort bound) {
    return "ask the lab's operator for the lab token"
        + (labGenerated ? " (" + stateDir(bound).resolve(TokenKind.LAB.fileName()) + " on the hypervisor's machine)"
        : "") + " and give it by --lab-token-file FILE or $BALLOONLAB_LAB_TOKEN";
  }

  /** Says on stderr, loudly, that a hypervisor others can reach speaks plaintext. */
  void warnIfExposed(HostPort listen, PrintWriter err) {
    if (tls.enabled() || isLoopback(listen.host())) {
      return;
    }
    err.println("WARNING: ==========================================================================");
    err.println("WARNING: the hypervisor listens on " + listen + ", reachable from other machines, WITHOUT TLS.");
    err.println("WARNING: tokens, VM credentials and every page's contents cross the network in clear text;");
    err.println("WARNING: anyone on the network path can read them and take over the lab.");
    err.println("WARNING: serve TLS with --tls-cert FILE --tls-key FILE (balloonlab certs; docs/security.md).");
    err.println("WARNING: ==========================================================================");
    err.flush();
  }

  private static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
