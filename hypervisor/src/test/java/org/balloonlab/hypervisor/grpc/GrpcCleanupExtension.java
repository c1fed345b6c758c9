package org.balloonlab.hypervisor.grpc;

import io.grpc.ManagedChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 counterpart of grpc-testing's GrpcCleanupRule: after each test, shuts down every registered channel
 * (cancelling its calls), then every registered server, then closes the other resources, newest first.
 */
final class GrpcCleanupExtension implements AfterEachCallback {
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final Deque<HypervisorServer> servers = new ArrayDeque<>();
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();

  ManagedChannel register(ManagedChannel channel) {
    channels.add(channel);
    return channel;
  }

  HypervisorServer register(HypervisorServer server) {
    servers.push(server);
    return server;
  }

  <T extends AutoCloseable> T register(T resource) {
    resources.push(resource);
    return resource;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    Exception failure = null;
    for (ManagedChannel channel : channels) {
      channel.shutdownNow();
    }
    for (ManagedChannel channel : channels) {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        failure = chain(failure, new IllegalStateException("channel " + channel + " did not terminate"));
      }
    }
    channels.clear();
    while (!servers.isEmpty()) {
      try {
        servers.pop().stop();
      } catch (Exception e) {
        failure = chain(failure, e);
      }
    }
    while (!resources.isEmpty()) {
      try {
        resources.pop().close();
      } catch (Exception e) {
        failure = chain(failure, e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static Exception chain(Exception first, Exception next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }
}
