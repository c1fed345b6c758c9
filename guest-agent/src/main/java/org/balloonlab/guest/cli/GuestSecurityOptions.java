package org.balloonlab.guest.cli;

import java.nio.file.Path;
import java.util.Map;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.transport.Token;
import org.balloonlab.transport.TokenFiles;
import org.balloonlab.transport.TokenKind;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The guest agent's flags for the lab token and TLS (docs/security.md). */
final class GuestSecurityOptions {
  @Option(names = "--lab-token-file", paramLabel = "FILE",
      description = "The lab token, which the hypervisor needs to power the VM on, from this file; or set "
          + "$BALLOONLAB_LAB_TOKEN (balloonlab run sets it). The lab's operator hands it out.")
  Path labTokenFile;

  @Option(names = "--tls-ca", paramLabel = "FILE",
      description = "Speak TLS and trust the hypervisor's certificate if this CA (PEM) signed it.")
  Path tlsCa;

  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "This guest's certificate (PEM), for a hypervisor that asks for client certificates; with "
          + "--tls-key and --tls-ca.")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "The private key of --tls-cert (PEM, PKCS#8).")
  Path tlsKey;

  /**
   * How the guest reaches its hypervisor: the lab token given by flag or environment, if any, and TLS.
   *
   * @throws CommandLine.ParameterException if a file is unreadable or a token malformed
   */
  ClientSecurity resolve(CommandLine cl, Map<String, String> env) {
    try {
      Token lab = TokenFiles.given(TokenKind.LAB, labTokenFile, env).orElse(null);
      return new ClientSecurity(lab, tlsCa, tlsCert, tlsKey);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, e.getMessage());
    }
  }
}
