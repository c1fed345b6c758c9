package org.balloonlab.lab.certs;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code balloonlab certs}: a lab's CA and its certificates, for TLS across machines (docs/security.md). */
@Command(name = "certs", mixinStandardHelpOptions = true,
    description = "Creates a lab's certificate authority and issues certificates for TLS between machines: a "
        + "server certificate for the hypervisor (with its host names and IP addresses) and client certificates "
        + "for mutual TLS. See docs/security.md.",
    subcommands = {CertsCommand.CreateCa.class, CertsCommand.Issue.class})
public final class CertsCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code balloonlab certs create-ca --out DIR}. */
  @Command(name = "create-ca", mixinStandardHelpOptions = true,
      description = "Creates a CA in DIR: ca.crt (copy it to every machine of the lab) and ca.key (readable by you "
          + "only; keep it on this machine).")
  static final class CreateCa implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the CA's files go.")
    Path out;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "lab",
        description = "The lab's name, in the CA's subject (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--days", paramLabel = "N", defaultValue = "365",
        description = "Days the CA is valid (default: ${DEFAULT-VALUE}).")
    int days;

    @Override
    public Integer call() throws IOException {
      CommandLine cl = spec.commandLine();
      requireDays(cl, days);
      Path cert;
      try {
        cert = LabCertificates.createCa(out, name, Duration.ofDays(days));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(cl, e.getMessage());
      }
      cl.getOut().println("CA created: " + cert + " (give it to every machine) and "
          + out.resolve(LabCertificates.CA_KEY) + " (keep it here)");
      return 0;
    }
  }

  /** {@code balloonlab certs issue --ca DIR --name NAME [--host HOST,..] --out DIR}. */
  @Command(name = "issue", mixinStandardHelpOptions = true,
      description = "Issues NAME.crt and NAME.key in DIR, signed by the CA in --ca. With --host: a server "
          + "certificate for those host names and IP addresses (the hypervisor's; clients check the address they "
          + "dial against them). Without: a client certificate, for a hypervisor started with --tls-client-ca.")
  static final class Issue implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--ca", required = true, paramLabel = "DIR", description = "The CA's directory (create-ca --out).")
    Path ca;

    @Option(names = "--name", required = true, paramLabel = "NAME",
        description = "The certificate's name: its subject and its files' names.")
    String name;

    @Option(names = "--host", paramLabel = "HOST", split = ",",
        description = "Host names and IP addresses of the server, comma-separated, such as "
            + "teacher.lab.example,192.168.1.10,localhost,127.0.0.1.")
    List<String> hosts = List.of();

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the files go.")
    Path out;

    @Option(names = "--days", paramLabel = "N", defaultValue = "90",
        description = "Days the certificate is valid (default: ${DEFAULT-VALUE}).")
    int days;

    @Override
    public Integer call() throws IOException {
      CommandLine cl = spec.commandLine();
      requireDays(cl, days);
      if (hosts.size() > 64) {
        throw new CommandLine.ParameterException(cl, "--host takes at most 64 names, got " + hosts.size());
      }
      Path cert;
      try {
        cert = LabCertificates.issue(ca, name, hosts, out, Duration.ofDays(days));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(cl, e.getMessage());
      }
      cl.getOut().println((hosts.isEmpty() ? "client" : "server") + " certificate issued: " + cert + " and "
          + out.resolve(name + ".key") + " (readable by you only)");
      return 0;
    }
  }

  private static void requireDays(CommandLine cl, int days) {
    if (days < 1 || days > 3650) {
      throw new CommandLine.ParameterException(cl, "--days must be from 1 to 3650, got " + days);
    }
  }
}
