package org.balloonlab.guest.cli;

import io.prometheus.metrics.model.registry.MultiCollector;
import java.io.IOException;
import java.io.PrintWriter;
import org.balloonlab.transport.metrics.MetricsEndpoint;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The guest agent's metrics endpoint options (docs/metrics.md): off unless a port is given, loopback by default. */
final class MetricsOptions {
  @Option(names = "--metrics-port", paramLabel = "PORT",
      description = "Serve this guest's Prometheus metrics at http://HOST:PORT/metrics (docs/metrics.md); 0 takes "
          + "a free port, printed at start. Off unless given.")
  Integer port;

  @Option(names = "--metrics-bind", paramLabel = "HOST", defaultValue = "127.0.0.1",
      description = "Address the metrics endpoint binds (default: ${DEFAULT-VALUE}, loopback only; it has no "
          + "authentication).")
  String bind;

  /** Refuses a port outside 0..65535 before anything starts. */
  void validate(CommandLine cl) {
    if (port != null && (port < 0 || port > 65535)) {
      throw new CommandLine.ParameterException(cl, "--metrics-port must be from 0 (any free port) to 65535, got "
          + port);
    }
  }

  /**
   * Serves {@code collector} if a port was given, printing where.
   *
   * @return the endpoint, or {@code null} if none was asked for
   * @throws IOException if the address cannot be bound
   */
  MetricsEndpoint start(MultiCollector collector, PrintWriter out) throws IOException {
    if (port == null) {
      return null;
    }
    MetricsEndpoint endpoint = MetricsEndpoint.start(bind, port, collector);
    out.println("metrics: " + endpoint.url());
    return endpoint;
  }
}
