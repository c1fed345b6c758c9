package org.balloonlab.lab;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.balloonlab.lab.dashboard.DashboardServer;
import org.balloonlab.transport.Token;
import org.balloonlab.units.HostPort;

/**
 * The dashboard a run serves ({@code balloonlab run --dashboard}): its server, its own connection to the
 * hypervisor, and the one-time sign-in file in the run's folder, all gone when the run ends.
 */
final class LabDashboard implements AutoCloseable {
  /** The sign-in file's name in the run's folder. */
  static final String LOGIN_FILE = "dashboard-login.url";

  private final ManagementClient client;
  private final DashboardServer server;
  private final Path loginFile;

  private LabDashboard(ManagementClient client, DashboardServer server, Path loginFile) {
    this.client = client;
    this.server = server;
    this.loginFile = loginFile;
  }

  /**
   * Serves the dashboard of the hypervisor at {@code address} on {@code listen} and prints where; {@code null} if
   * {@code listen} is {@code null} (none asked for) or the launcher has no operator token (said on {@code out}).
   *
   * @throws IOException if it cannot listen on {@code listen}
   */
  static LabDashboard start(HostPort listen, Launcher launcher, HostPort address, Path runDir, PrintWriter out)
      throws IOException {
    if (listen == null) {
      return null;
    }
    Token operator = launcher.operatorToken();
    if (operator == null) {
      out.println("dashboard: not served: this launcher has no operator token for the hypervisor at " + address
          + " (give --operator-token-file FILE; docs/security.md)");
      out.flush();
      return null;
    }
    ManagementClient client = launcher.management(address);
    DashboardServer server;
    try {
      server = new DashboardServer(listen, client, operator, DashboardCommand.DEFAULT_POLL.toMillis());
    } catch (IOException | RuntimeException e) {
      closeQuietly(client);
      throw new IOException("the dashboard cannot listen on " + listen + ": " + e.getMessage(), e);
    }
    Path file = runDir.resolve(LOGIN_FILE);
    LabDashboard d = new LabDashboard(client, server, file);
    try {
      server.writeSignInFile(file);
    } catch (IOException e) {
      d.close();
      throw e;
    }
    out.println(DashboardServer.SERVING + server.address());
    out.println("dashboard: " + server.address() + " ; sign in by opening the one-time address in "
        + file.toAbsolutePath() + " (readable by you only), or paste the operator token on the page");
    out.flush();
    return d;
  }

  private static void closeQuietly(ManagementClient client) {
    try {
      client.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    server.close();
    closeQuietly(client);
    try {
      Files.deleteIfExists(loginFile);
    } catch (IOException e) {
      // left behind in the run's folder: a sign-in address that no longer works
    }
  }
}
