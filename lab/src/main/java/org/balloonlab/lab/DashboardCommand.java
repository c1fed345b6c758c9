package org.balloonlab.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.balloonlab.lab.dashboard.DashboardServer;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.transport.Token;
import org.balloonlab.units.ExitCodes;
import org.balloonlab.units.HostPort;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code balloonlab dashboard}: the live web dashboard of a lab started by hand ({@code balloonlab run
 * --dashboard} serves the same for the lab it runs). Serves until Ctrl-C.
 */
@Command(name = "dashboard", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Serves a live web dashboard of a running hypervisor: the machine, a stacked memory chart per VM, "
        + "the events, and the operator's actions (balloon target, driver mode). Prints its address; sign in with "
        + "the one-time address it writes to --login-file, or by pasting the operator token. Runs until Ctrl-C.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {ExitCodes.OK + ":stopped by Ctrl-C", ExitCodes.USAGE + ":bad command line, or no operator token",
        ExitCodes.CANNOT_START + ":the address to listen on cannot be used"})
final class DashboardCommand implements Callable<Integer> {
  /** The wall time between two looks at the lab, by default. */
  static final Duration DEFAULT_POLL = Duration.ofMillis(500);

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--hypervisor", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7400",
      description = "The hypervisor (default: ${DEFAULT-VALUE}).")
  HostPort hypervisor;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:0",
      description = "Where the dashboard listens (default: ${DEFAULT-VALUE}, loopback on a free port; it prints "
          + "the port). Another address than loopback serves plain HTTP to the network: see docs/dashboard.md.")
  HostPort listen;

  @Option(names = "--login-file", paramLabel = "FILE",
      description = "Where to write the one-time sign-in address, readable by you only (default: "
          + "~/.balloonlab/dashboards/<port>.url).")
  Path loginFile;

  @Option(names = "--poll", paramLabel = "DURATION", defaultValue = "500ms",
      description = "How often the dashboard looks at the lab, in wall time, 100ms to 1m (default: ${DEFAULT-VALUE}).")
  Duration poll;

  @CommandLine.Mixin
  ClientSecurityOptions security = new ClientSecurityOptions();

  @Override
  public Integer call() throws Exception {
    checkPoll(spec, poll, "--poll");
    ClientSecurity clientSecurity = security.resolve(spec.commandLine(), hypervisor, System.getenv());
    Token operator = security.operatorToken(hypervisor, System.getenv()).orElseThrow(() ->
        new CommandLine.ParameterException(spec.commandLine(), "the dashboard needs the hypervisor's operator token "
            + "(its control actions are the operator's): give --operator-token-file FILE or "
            + "$BALLOONLAB_OPERATOR_TOKEN, or run it as the hypervisor's user on its machine (docs/security.md)"));
    CountDownLatch stop = new CountDownLatch(1);
    try (ManagementClient client = new ManagementClient(hypervisor, clientSecurity.withToken(operator))) {
      DashboardServer server;
      try {
        server = new DashboardServer(listen, client, operator, poll.toMillis());
      } catch (IOException e) {
        spec.commandLine().getErr().println("dashboard: cannot listen on " + listen + ": " + e.getMessage());
        return ExitCodes.CANNOT_START;
      }
      Path file = loginFile != null ? loginFile : defaultLoginFile(server.address());
      // Ctrl-C or SIGTERM: the shutdown hook stops the server and removes the sign-in file before the JVM exits.
      Thread hook = new Thread(() -> {
        server.close();
        try {
          Files.deleteIfExists(file);
        } catch (IOException e) {
          // left behind: it holds a sign-in address that no longer works
        }
        stop.countDown();
      }, "dashboard-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      server.writeSignInFile(file);
      announce(spec.commandLine(), server, listen, file);
      stop.await();
    }
    return ExitCodes.OK;
  }

  /** Refuses a poll period outside 100 ms to 1 minute. */
  static void checkPoll(CommandLine.Model.CommandSpec spec, Duration poll, String option) {
    if (poll.compareTo(Duration.ofMillis(100)) < 0 || poll.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), option + " must be 100ms to 1m, got " + poll.toMillis() + "ms");
    }
  }

  /** {@code ~/.balloonlab/dashboards/<port>.url}, its folder private to this user. */
  private static Path defaultLoginFile(String address) throws IOException {
    Path dir = Path.of(System.getProperty("user.home"), ".balloonlab", "dashboards");
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    String port = address.substring(address.lastIndexOf(':') + 1, address.length() - 1);
    return dir.resolve(port + ".url");
  }

  /**
   * Prints where the dashboard serves and how to sign in: never the sign-in address or a token themselves, only
   * the file that holds the address.
   */
  static void announce(CommandLine cl, DashboardServer server, HostPort listen, Path loginFile) {
    cl.getOut().println(DashboardServer.SERVING + server.address());
    cl.getOut().println("dashboard: " + server.address() + " ; sign in by opening the one-time address in "
        + loginFile.toAbsolutePath() + " (readable by you only), or paste the operator token on the page");
    cl.getOut().flush();
    String host = listen.host();
    if (!host.equals("127.0.0.1") && !host.equals("::1") && !host.equals("localhost")) {
      cl.getErr().println("WARNING: the dashboard listens on " + listen + " with plain HTTP: its session cookie and "
          + "a pasted operator token cross the network in clear text (docs/dashboard.md)");
      cl.getErr().flush();
    }
  }
}
