package org.balloonlab.transport;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.util.concurrent.Executor;

/**
 * Sends a token on every call as gRPC metadata, {@code authorization: Bearer <token>}, the form
 * {@link TokenInterceptor} checks.
 */
public final class BearerCredentials extends CallCredentials {
  /** The {@code authorization} metadata key. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /** What precedes the token in the header. */
  public static final String SCHEME = "Bearer ";

  private final Token token;

  public BearerCredentials(Token token) {
    this.token = token;
  }

  @Override
  public void applyRequestMetadata(RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, SCHEME + token.reveal());
    applier.apply(headers);
  }
}
