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
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SSLException || t instanceof CertificateException) {
        String why = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (why.length() > 300) {
          why = why.substring(0, 300) + "...";
        }
        return description + " (TLS handshake failed: " + why + "; check --tls-ca, the certificate's host names, "
            + "and --tls-cert/--tls-key if the hypervisor asks for client certificates)";
      }
    }
    return description;
  }
}
