package org.balloonlab.transport;

import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * How a server speaks on the wire: plaintext, TLS with a certificate and key (PEM, the key in PKCS#8), or mutual
 * TLS, where every client must show a certificate signed by {@code clientCa}.
 *
 * @param cert the server's certificate chain, or {@code null} for plaintext
 * @param key the server's private key, with {@code cert}
 * @param clientCa the CA that signs client certificates for mutual TLS, or {@code null}
 */
public record ServerTls(Path cert, Path key, Path clientCa) {
  /** Plaintext. */
  public static final ServerTls PLAINTEXT = new ServerTls(null, null, null);

  public ServerTls {
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException("--tls-cert and --tls-key go together");
    }
    if (clientCa != null && cert == null) {
      throw new IllegalArgumentException("--tls-client-ca needs --tls-cert and --tls-key");
    }
    PemFiles.requireReadable(cert, "--tls-cert");
    PemFiles.requireReadable(key, "--tls-key");
    PemFiles.requireReadable(clientCa, "--tls-client-ca");
  }

  /** Whether the server speaks TLS. */
  public boolean enabled() {
    return cert != null;
  }

  /** The credentials of a server built with them. */
  public ServerCredentials credentials() throws IOException {
    if (!enabled()) {
      return InsecureServerCredentials.create();
    }
    TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder().keyManager(cert.toFile(), key.toFile());
    if (clientCa != null) {
      b.trustManager(clientCa.toFile()).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    }
    return b.build();
  }

  /**
   * A Netty server builder on {@code address} with these credentials; the caller adds its own options (message
   * sizes, executors, keepalive) and services.
   *
   * @throws IOException if a PEM file cannot be read or parsed
   */
  public NettyServerBuilder serverBuilder(InetSocketAddress address) throws IOException {
    try {
      return NettyServerBuilder.forAddress(address, credentials());
    } catch (IllegalArgumentException e) {
      throw new IOException("cannot use the TLS files (" + cert + ", " + key
          + (clientCa == null ? "" : ", " + clientCa) + "): " + e.getMessage(), e);
    }
  }

  /** {@code plaintext}, {@code TLS} or {@code mutual TLS}, for a start-up line. */
  public String describe() {
    return !enabled() ? "plaintext" : clientCa == null ? "TLS (certificate " + cert + ")"
        : "mutual TLS (certificate " + cert + ", client certificates signed by " + clientCa + ")";
  }
}
