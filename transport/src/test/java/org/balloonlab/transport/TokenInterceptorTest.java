package org.balloonlab.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The interceptor's rules, directly and through an in-process server whose peer is trusted or not. */
class TokenInterceptorTest {
  private static final Token OPERATOR = Token.generate();
  private static final Token LAB = Token.generate();
  private final TokenInterceptor gate = new TokenInterceptor(OPERATOR, LAB, m -> Access.OPERATOR, p -> false,
      () -> "OPHINT", () -> "LABHINT");
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void close() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void operatorCallsNeedTheOperatorToken() {
    assertNull(gate.check(Access.OPERATOR, "M", "Bearer " + OPERATOR.reveal()));
    Status none = gate.check(Access.OPERATOR, "M", null);
    assertEquals(Status.Code.UNAUTHENTICATED, none.getCode());
    assertEquals("M needs the operator token, sent as 'authorization: Bearer <token>', and the call sent none; "
        + "OPHINT", none.getDescription());
    Status lab = gate.check(Access.OPERATOR, "M", "Bearer " + LAB.reveal());
    assertEquals(Status.Code.PERMISSION_DENIED, lab.getCode());
    assertEquals("M needs the operator token; the lab token is not enough; OPHINT", lab.getDescription());
    Status wrong = gate.check(Access.OPERATOR, "M", "Bearer " + Token.generate().reveal());
    assertEquals(Status.Code.PERMISSION_DENIED, wrong.getCode());
    assertEquals("M needs the operator token; the token sent is not it; OPHINT", wrong.getDescription());
  }

  @Test
  void labCallsTakeEitherToken() {
    assertNull(gate.check(Access.LAB, "M", "Bearer " + LAB.reveal()));
    assertNull(gate.check(Access.LAB, "M", "Bearer " + OPERATOR.reveal()));
    Status wrong = gate.check(Access.LAB, "M", "Bearer not-the-token-at-all");
    assertEquals(Status.Code.PERMISSION_DENIED, wrong.getCode());
    assertEquals("M needs the lab token (or the operator token); the token sent is not it; LABHINT",
        wrong.getDescription());
  }

  @Test
  void aHeaderInAnotherFormIsUnauthenticatedAndNotEchoed() {
    Status bare = gate.check(Access.LAB, "M", LAB.reveal());
    assertEquals(Status.Code.UNAUTHENTICATED, bare.getCode());
    assertEquals("M needs the lab token (or the operator token), sent as 'authorization: Bearer <token>', and the "
        + "authorization header of the call is not in that form; LABHINT", bare.getDescription());
    Status huge = gate.check(Access.LAB, "M", "Bearer " + "x".repeat(65536));
    assertEquals(Status.Code.PERMISSION_DENIED, huge.getCode());
    assertEquals("M needs the lab token (or the operator token); the token sent is not it; LABHINT",
        huge.getDescription());
  }

  @Test
  void readOnlyViewsAreOpenToTrustedPeersOnly() throws IOException {
    String trusted = start(p -> true);
    assertEquals("ok", call(trusted, "Read", null));
    // An operator's call needs its token even from a trusted peer.
    StatusRuntimeException op = assertThrows(StatusRuntimeException.class, () -> call(trusted, "Operate", LAB));
    assertEquals(Status.Code.PERMISSION_DENIED, op.getStatus().getCode());
    assertEquals("ok", call(trusted, "Operate", OPERATOR));
    String untrusted = start(p -> false);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> call(untrusted, "Read", null));
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    assertEquals("Read needs the lab or the operator token from a peer that is not on loopback, sent as "
        + "'authorization: Bearer <token>', and the call sent none; LABHINT", e.getStatus().getDescription());
    assertEquals("ok", call(untrusted, "Read", LAB));
    assertEquals("ok", call(untrusted, "Read", OPERATOR));
    // Open methods need nothing from anyone.
    assertEquals("ok", call(untrusted, "Health", null));
  }

  @Test
  void loopbackAddressesAreTrustedAndOthersNot() {
    assertEquals(true, PeerAddresses.isLoopback(new java.net.InetSocketAddress("127.0.0.1", 1)));
    assertEquals(true, PeerAddresses.isLoopback(new java.net.InetSocketAddress("::1", 1)));
    assertEquals(false, PeerAddresses.isLoopback(new java.net.InetSocketAddress("192.168.1.10", 1)));
    assertEquals(false, PeerAddresses.isLoopback(null));
    assertEquals(false, PeerAddresses.isLoopback(new io.grpc.inprocess.InProcessSocketAddress("x")));
  }

  // ---------------------------------------------------------------- an in-process service of three methods

  private static final MethodDescriptor.Marshaller<String> STRING = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  private static MethodDescriptor<String, String> method(String name) {
    return MethodDescriptor.<String, String>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName("test.Svc/" + name).setRequestMarshaller(STRING).setResponseMarshaller(STRING).build();
  }

  private String start(Predicate<SocketAddress> trusted) throws IOException {
    if (server != null) {
      server.shutdownNow();
    }
    Map<String, Access> rules = Map.of("test.Svc/Read", Access.READ, "test.Svc/Health", Access.OPEN,
        "test.Svc/Operate", Access.OPERATOR);
    ServerServiceDefinition.Builder svc = ServerServiceDefinition.builder("test.Svc");
    for (String m : rules.keySet()) {
      svc.addMethod(method(m.substring(m.indexOf('/') + 1)), ServerCalls.asyncUnaryCall((req, out) -> {
        out.onNext("ok");
        out.onCompleted();
      }));
    }
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).addService(svc.build())
        .intercept(new TokenInterceptor(OPERATOR, LAB, rules::get, trusted, () -> "OPHINT", () -> "LABHINT"))
        .build().start();
    return name;
  }

  private String call(String serverName, String method, Token token) {
    if (channel != null) {
      channel.shutdownNow();
    }
    channel = InProcessChannelBuilder.forName(serverName).build();
    CallOptions options = token == null ? CallOptions.DEFAULT
        : CallOptions.DEFAULT.withCallCredentials(new BearerCredentials(token));
    return ClientCalls.blockingUnaryCall(channel, method(method), options, "hi");
  }
}
