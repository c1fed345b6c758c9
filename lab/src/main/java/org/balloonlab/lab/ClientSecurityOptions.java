package org.balloonlab.lab;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.transport.Token;
import org.balloonlab.transport.TokenFiles;
import org.balloonlab.transport.TokenKind;
import org.balloonlab.units.HostPort;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The flags with which the operator's commands and the launcher reach a hypervisor: its tokens and TLS
 * (docs/security.md). The operator token is found by flag, by environment, or in the hypervisor's state directory
 * on this machine; without it, a lab token given by flag or environment is sent instead (enough for the
 * read-only views from another machine).
 */
final class ClientSecurityOptions {
  @Option(names = "--operator-token-file", paramLabel = "FILE",
      description = "The operator token, from this file; or set $BALLOONLAB_OPERATOR_TOKEN (default: the file the "
          + "hypervisor wrote on this machine, ~/.balloonlab/hypervisors/<host>_<port>/operator.token).")
  Path operatorTokenFile;

  @Option(names = "--lab-token-file", paramLabel = "FILE",
      description = "The lab token, from this file; or set $BALLOONLAB_LAB_TOKEN. Guests need it to join; without "
          + "the operator token it is what is sent, which is enough to watch (status, events) from another machine.")
  Path labTokenFile;

  @Option(names = "--tls-ca", paramLabel = "FILE",
      description = "Speak TLS and trust the hypervisor's certificate if this CA (PEM) signed it.")
  Path tlsCa;

  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "A client certificate (PEM), for a hypervisor that asks for them (mutual TLS); with --tls-key.")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "The private key of --tls-cert (PEM, PKCS#8).")
  Path tlsKey;

  /**
   * The operator token for the hypervisor at {@code at}: given, or from its state directory on this machine; or
   * given only, when {@code at} is {@code null} (a hypervisor not started yet).
   */
  Optional<Token> operatorToken(HostPort at, Map<String, String> env) {
    return at == null ? TokenFiles.given(TokenKind.OPERATOR, operatorTokenFile, env)
        : TokenFiles.find(TokenKind.OPERATOR, operatorTokenFile, env, at.host(), at.port());
  }

  /** The lab token given by flag or environment, or empty. */
  Optional<Token> labToken(Map<String, String> env) {
    return TokenFiles.given(TokenKind.LAB, labTokenFile, env);
  }

  /** The lab token for the hypervisor at {@code at}: given, or from its state directory on this machine. */
  Optional<Token> labToken(HostPort at, Map<String, String> env) {
    return TokenFiles.find(TokenKind.LAB, labTokenFile, env, at.host(), at.port());
  }

  /**
   * How a command reaches the hypervisor at {@code at}: the operator token if found, else the lab token if given.
   *
   * @throws CommandLine.ParameterException if a file is unreadable or a token malformed
   */
  ClientSecurity resolve(CommandLine cl, HostPort at, Map<String, String> env) {
    try {
      Token token = operatorToken(at, env).or(() -> labToken(env)).orElse(null);
      return new ClientSecurity(token, tlsCa, tlsCert, tlsKey);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, e.getMessage());
    }
  }

  /** The TLS settings alone, without a token; for the launcher, which learns its tokens as it goes. */
  ClientSecurity tls(CommandLine cl) {
    try {
      return new ClientSecurity(null, tlsCa, tlsCert, tlsKey);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, e.getMessage());
    }
  }
}
