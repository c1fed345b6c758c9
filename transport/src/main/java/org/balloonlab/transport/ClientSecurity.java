package org.balloonlab.transport;

import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * How a client reaches a hypervisor: the token it sends on every call (or none), and TLS: the CA that signed the
 * server's certificate ({@code tlsCa}; without it the client speaks plaintext), and the client's own certificate
 * and key for mutual TLS.
 *
 * @param token sent as {@code authorization: Bearer <token>} on every call, or {@code null}
 * @param tlsCa the CA to verify the server with, or {@code null} for plaintext
 * @param tlsCert the client's certificate for mutual TLS, or {@code null}
 * @param tlsKey the client's key, with {@code tlsCert}
 */
public record ClientSecurity(Token token, Path tlsCa, Path tlsCert, Path tlsKey) {
  /** Plaintext and no token, as on loopback before this existed. */
  public static final ClientSecurity NONE = new ClientSecurity(null, null, null, null);

  public ClientSecurity {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException("--tls-cert and --tls-key go together");
    }
    if (tlsCert != null && tlsCa == null) {
      throw new IllegalArgumentException("--tls-cert and --tls-key need --tls-ca (the CA of the hypervisor's "
          + "certificate)");
    }
    PemFiles.requireReadable(tlsCa, "--tls-ca");
    PemFiles.requireReadable(tlsCert, "--tls-cert");
    PemFiles.requireReadable(tlsKey, "--tls-key");
  }

  /** The same TLS settings with another token. */
  public ClientSecurity withToken(Token t) {
    return new ClientSecurity(t, tlsCa, tlsCert, tlsKey);
  }

  /** Whether the client speaks TLS. */
  public boolean tls() {
    return tlsCa != null;
  }

  /**
   * The channel credentials: TLS or plaintext, with the token as call credentials.
   *
   * @throws UncheckedIOException if a PEM file cannot be read
   */
  public ChannelCredentials credentials() {
    ChannelCredentials channel;
    if (tlsCa == null) {
      channel = InsecureChannelCredentials.create();
    } else {
      try {
        TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder().trustManager(tlsCa.toFile());
        if (tlsCert != null) {
          b.keyManager(tlsCert.toFile(), tlsKey.toFile());
        }
        channel = b.build();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the TLS files: " + e.getMessage(), e);
      }
    }
    return token == null ? channel : CompositeChannelCredentials.create(channel, new BearerCredentials(token));
  }
}
