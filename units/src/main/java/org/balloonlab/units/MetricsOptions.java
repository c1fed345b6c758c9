package org.balloonlab.units;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The Prometheus metrics endpoint's flags, shared by the hypervisor and the guest agent (docs/metrics.md): off
 * unless a port is given, loopback by default. A picocli mixin; the command serves the endpoint itself.
 */
public final class MetricsOptions {
  @Option(names = "--metrics-port", paramLabel = "PORT",
      description = "Serve Prometheus metrics at http://HOST:PORT/metrics (docs/metrics.md); 0 takes a free port, "
          + "printed at start. Off unless given.")
  Integer port;

  @Option(names = "--metrics-bind", paramLabel = "HOST", defaultValue = "127.0.0.1",
      description = "Address the metrics endpoint binds (default: ${DEFAULT-VALUE}, loopback only; it has no "
          + "authentication).")
  String bind;

  /** Refuses a port outside 0..65535 before anything starts. */
  public void validate(CommandLine cl) {
    if (port != null && (port < 0 || port > 65535)) {
      throw new CommandLine.ParameterException(cl, "--metrics-port must be from 0 (any free port) to 65535, got "
          + port);
    }
  }

  /** Whether metrics were asked for. */
  public boolean enabled() {
    return port != null;
  }

  /** The port asked for (0: any free one); only when {@link #enabled}. */
  public int port() {
    return port;
  }

  /** The address to bind. */
  public String bind() {
    return bind;
  }
}
