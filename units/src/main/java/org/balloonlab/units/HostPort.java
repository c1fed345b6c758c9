package org.balloonlab.units;

/**
 * A network address written {@code host:port} (or {@code [v6-address]:port}), as given to {@code --hypervisor}
 * or {@code --listen}. Port 0 asks the operating system for a free port, which is allowed only where a server
 * binds.
 */
public record HostPort(String host, int port) {

  public HostPort {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("an address needs a host, as in localhost:7400");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is out of range 0-65535");
    }
  }

  /**
   * Parses {@code host:port}.
   *
   * @throws IllegalArgumentException naming the text and the expected form
   */
  public static HostPort parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("an address is required, as in localhost:7400");
    }
    String t = text.trim();
    int colon = t.lastIndexOf(':');
    if (colon <= 0 || colon == t.length() - 1) {
      throw new IllegalArgumentException("cannot read '" + text + "' as host:port, as in localhost:7400");
    }
    String host = t.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(t.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("cannot read the port of '" + text + "'; write host:port, as in localhost:7400");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port of '" + text + "' is out of range 0-65535");
    }
    return new HostPort(host, port);
  }

  /** The form a gRPC channel target takes. */
  public String target() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }

  @Override
  public String toString() {
    return target();
  }
}
