package org.balloonlab.transport;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.SocketAddress;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Checks the token of every call before the service sees it: a server's gate.
 *
 * <p>Each method needs an {@link Access} (a table the server gives, by full method name). A call that needs a
 * token and sends none, or sends the {@code authorization} header in another form than {@code Bearer <token>}, ends
 * UNAUTHENTICATED; one that sends a token that is not the one it needs (a wrong token, or the lab token on an
 * operator's call) ends PERMISSION_DENIED. Both messages say which token the method needs and how to get it, and
 * never repeat what was sent. Tokens are compared in constant time ({@link Token#matches}).
 *
 * <p>Read-only methods ({@link Access#READ}) need no token from a trusted peer; which peers are trusted is a
 * predicate on the peer's address ({@link PeerAddresses#isLoopback} on a real server), so tests can choose.
 */
public final class TokenInterceptor implements ServerInterceptor {
  private final Token operator;
  private final Token lab;
  private final Function<String, Access> rules;
  private final Predicate<SocketAddress> trusted;
  private final Supplier<String> operatorHint;
  private final Supplier<String> labHint;

  /**
   * @param rules the access each full method name needs ({@code package.Service/Method})
   * @param trusted the peers that may call read-only methods without a token
   * @param operatorHint how to get the operator token, for messages, such as where its file is (asked at each
   *     refusal: a server learns its port, which names the file, once it is bound)
   * @param labHint how to get the lab token, for messages
   */
  public TokenInterceptor(Token operator, Token lab, Function<String, Access> rules, Predicate<SocketAddress> trusted,
                          Supplier<String> operatorHint, Supplier<String> labHint) {
    this.operator = Objects.requireNonNull(operator);
    this.lab = Objects.requireNonNull(lab);
    this.rules = rules;
    this.trusted = trusted;
    this.operatorHint = operatorHint;
    this.labHint = labHint;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                     ServerCallHandler<Q, R> next) {
    String fullName = call.getMethodDescriptor().getFullMethodName();
    Access access = rules.apply(fullName);
    if (access == null) {
      access = Access.OPERATOR;
    }
    if (access == Access.OPEN
        || access == Access.READ && trusted.test(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR))) {
      return next.startCall(call, headers);
    }
    Status refusal = check(access, methodName(fullName), headers.get(BearerCredentials.AUTHORIZATION));
    if (refusal == null) {
      return next.startCall(call, headers);
    }
    call.close(refusal, new Metadata());
    return new ServerCall.Listener<>() { };
  }

  /** {@code null} if {@code header} grants {@code access}, else the status the call ends with. */
  Status check(Access access, String method, String header) {
    TokenKind needed = access == Access.OPERATOR ? TokenKind.OPERATOR : TokenKind.LAB;
    String needs = method + " needs the " + (needed == TokenKind.OPERATOR ? "operator token"
        : access == Access.READ ? "lab or the operator token from a peer that is not on loopback"
        : "lab token (or the operator token)");
    String hint = (needed == TokenKind.OPERATOR ? operatorHint : labHint).get();
    if (header == null) {
      return Status.UNAUTHENTICATED.withDescription(needs + ", sent as 'authorization: Bearer <token>', and the call "
          + "sent none; " + hint);
    }
    if (!header.startsWith(BearerCredentials.SCHEME)) {
      return Status.UNAUTHENTICATED.withDescription(needs + ", sent as 'authorization: Bearer <token>', and the "
          + "authorization header of the call is not in that form; " + hint);
    }
    String sent = header.substring(BearerCredentials.SCHEME.length());
    // Both compared every time, so which one matched does not show in how long the check takes.
    boolean isOperator = Token.isWellFormed(sent) && operator.matches(sent);
    boolean isLab = Token.isWellFormed(sent) && lab.matches(sent);
    if (isOperator || isLab && needed == TokenKind.LAB) {
      return null;
    }
    if (isLab) {
      return Status.PERMISSION_DENIED.withDescription(needs + "; the lab token is not enough; " + hint);
    }
    return Status.PERMISSION_DENIED.withDescription(needs + "; the token sent is not it; " + hint);
  }

  /** {@code Method} of {@code package.Service/Method}: registered methods only reach here, so it is bounded. */
  private static String methodName(String fullName) {
    return fullName.substring(fullName.lastIndexOf('/') + 1);
  }
}
