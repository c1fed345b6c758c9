package org.balloonlab.transport;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;

/** Channels to a hypervisor, the one place every BalloonLab client builds them. */
public final class Channels {
  private Channels() {
  }

  /**
   * A Netty channel builder to {@code target} ({@code host:port}) with {@code security}'s credentials; the caller
   * adds its own options (message sizes, executors, keepalive) and builds it.
   */
  public static NettyChannelBuilder builder(String target, ClientSecurity security) {
    return NettyChannelBuilder.forTarget(target, security.credentials());
  }

  /**
   * A status's description, with the reason a TLS handshake failed when that is why the call failed (gRPC says
   * only "io exception" then), and what to do about it.
   */
  public static String describe(StatusRuntimeException e) {
    Status s = e.getStatus();
    String description = s.getDescription() == null ? "" : s.getDescription();
    // gRPC appends the Netty pipeline on further lines: one line is what a user reads.
    int newline = description.indexOf('\n');
    if (newline >= 0) {
      description = description.substring(0, newline).strip();
    }
    String why = null;
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      // The deepest TLS failure says the most (a certificate path that cannot be built, a missing certificate).
      if ((t instanceof SSLException || t instanceof CertificateException) && t.getMessage() != null) {
        why = t.getMessage();
      }
    }
    if (why == null) {
      return description;
    }
    why = why.replaceAll("\\s+", " ");
    if (why.length() > 200) {
      why = why.substring(0, 200) + "...";
    }
    return description + " (TLS handshake failed: " + why + "; check --tls-ca, the host names of the hypervisor's "
        + "certificate, and --tls-cert/--tls-key if it asks for client certificates)";
  }
}
