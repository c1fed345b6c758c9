package org.balloonlab.hypervisor.grpc;

import io.grpc.ServerInterceptor;
import java.net.SocketAddress;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.balloonlab.transport.PeerAddresses;
import org.balloonlab.transport.Token;
import org.balloonlab.transport.TokenInterceptor;

/**
 * The hypervisor's gate: its two tokens checked against {@link AccessRules} on every call.
 */
public final class ServerGate {
  private ServerGate() {
  }

  /**
   * The interceptor of a hypervisor on the network: read-only views are open to loopback peers only.
   *
   * @param operatorHint how to get the operator token, said in refusals
   * @param labHint how to get the lab token, said in refusals
   */
  public static ServerInterceptor of(Token operator, Token lab, Supplier<String> operatorHint, Supplier<String> labHint) {
    return of(operator, lab, PeerAddresses::isLoopback, operatorHint, labHint);
  }

  /** The interceptor with the peers trusted with read-only views chosen by the caller (tests). */
  public static ServerInterceptor of(Token operator, Token lab, Predicate<SocketAddress> trusted,
                                     Supplier<String> operatorHint, Supplier<String> labHint) {
    return new TokenInterceptor(operator, lab, new AccessRules(), trusted, operatorHint, labHint);
  }
}
