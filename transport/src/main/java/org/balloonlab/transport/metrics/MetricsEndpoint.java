package org.balloonlab.transport.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;

/**
 * The HTTP endpoint Prometheus scrapes ({@code /metrics}), serving one collector from a registry of its own (never
 * the client's global one, so two machines in one JVM, as in tests, do not mix). Closing it frees the port.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private final HTTPServer server;
  private final String host;

  private MetricsEndpoint(HTTPServer server, String host) {
    this.server = server;
    this.host = host;
  }

  /**
   * Starts serving {@code collector} on {@code host:port}.
   *
   * @param port the port; 0 takes a free one ({@link #port()} says which)
   * @throws IOException if the address cannot be bound
   */
  public static MetricsEndpoint start(String host, int port, MultiCollector collector) throws IOException {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("a metrics port is 0 (any free one) to 65535, got " + port);
    }
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(collector);
    HTTPServer server = HTTPServer.builder().inetAddress(InetAddress.getByName(host)).port(port).registry(registry)
        .buildAndStart();
    return new MetricsEndpoint(server, host);
  }

  /** The port it serves on. */
  public int port() {
    return server.getPort();
  }

  /** Where to scrape it: {@code http://host:port/metrics}. */
  public String url() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return "http://" + h + ":" + port() + "/metrics";
  }

  @Override
  public void close() {
    server.close();
  }
}
