package org.balloonlab.lab;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.balloonlab.transport.Channels;
import org.balloonlab.units.ExitCodes;
import org.balloonlab.units.HostPort;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * What the operator's commands ({@code status}, {@code balloon}, {@code driver}, {@code tau}, {@code poweroff},
 * {@code events}) share: the {@code --hypervisor} option, the token and TLS flags ({@link ClientSecurityOptions}),
 * a connection to its management service for the one command, and how a call the hypervisor refuses or does not
 * answer ends the command: one line on stderr, and exit code {@link ExitCodes#HYPERVISOR_LOST} if the hypervisor
 * cannot be reached (or went away while {@code events --follow} followed it), {@link ExitCodes#HYPERVISOR_REFUSED}
 * ({@code <command>: <status code> <description>}) if it refused the call. A command refuses a bad argument
 * ({@link OptionCheck}) before its first call.
 */
@CommandLine.Command(exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {ExitCodes.OK + ":success", ExitCodes.USAGE + ":bad command line",
        ExitCodes.HYPERVISOR_LOST + ":the hypervisor cannot be reached, or went away",
        ExitCodes.HYPERVISOR_REFUSED + ":the hypervisor refused the call (such as NOT_FOUND for an unknown VM)"})
abstract class ControlCommand implements Callable<Integer> {
  /** The exit code of a command whose call the hypervisor refused. */
  static final int REFUSED = ExitCodes.HYPERVISOR_REFUSED;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--hypervisor", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7400",
      descriptionKey = "hypervisor", description = "The hypervisor (default: ${DEFAULT-VALUE}).")
  HostPort hypervisor;

  @CommandLine.Mixin
  ClientSecurityOptions security = new ClientSecurityOptions();

  @Override
  public final Integer call() throws Exception {
    try (ManagementClient client = new ManagementClient(hypervisor,
        security.resolve(spec.commandLine(), hypervisor, System.getenv()))) {
      call(client, spec.commandLine().getOut());
      return ExitCodes.OK;
    } catch (StatusRuntimeException e) {
      if (unreachable(e)) {
        spec.commandLine().getErr().println(spec.name() + ": the hypervisor at " + hypervisor + " cannot be reached "
            + "or went away (" + e.getStatus().getCode() + "); is it running? Give its address with --hypervisor "
            + "HOST:PORT." + unreachableDetail(e));
        return ExitCodes.HYPERVISOR_LOST;
      }
      spec.commandLine().getErr().println(refusal(e));
      return REFUSED;
    }
  }

  /** Whether a call failed because the hypervisor is not there, rather than because it refused the call. */
  static boolean unreachable(StatusRuntimeException e) {
    return e.getStatus().getCode() == Status.Code.UNAVAILABLE
        || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED;
  }

  /**
   * What more a user needs to know of a connection that failed: a TLS handshake's reason, or, when nothing
   * refused the connection outright, that the hypervisor may serve TLS.
   */
  private String unreachableDetail(StatusRuntimeException e) {
    String detail = Channels.describe(e);
    int tls = detail.indexOf("(TLS handshake failed");
    if (tls >= 0) {
      return " " + detail.substring(tls);
    }
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof java.net.ConnectException) {
        return ""; // nothing listens there: TLS is not why
      }
    }
    return plaintextHint(e);
  }

  /** Makes the command's calls and prints what they answer. */
  abstract void call(ManagementClient client, PrintWriter out) throws Exception;

  /** The line that says why a call failed. */
  String refusal(StatusRuntimeException e) {
    return spec.name() + ": " + e.getStatus().getCode() + " " + Channels.describe(e) + plaintextHint(e);
  }

  /** A hint for a plaintext client the hypervisor would not talk to: it may serve TLS. */
  String plaintextHint(StatusRuntimeException e) {
    return e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE && security.tlsCa == null
        ? " (if the hypervisor serves TLS, give --tls-ca FILE)" : "";
  }
}
