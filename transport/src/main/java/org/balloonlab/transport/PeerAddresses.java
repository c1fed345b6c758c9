package org.balloonlab.transport;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** Which peers a server trusts with read-only views without a token. */
public final class PeerAddresses {
  private PeerAddresses() {
  }

  /** Whether {@code peer} is an IP address of this machine's loopback interface (127.0.0.0/8, ::1). */
  public static boolean isLoopback(SocketAddress peer) {
    return peer instanceof InetSocketAddress a && a.getAddress() != null && a.getAddress().isLoopbackAddress();
  }
}
