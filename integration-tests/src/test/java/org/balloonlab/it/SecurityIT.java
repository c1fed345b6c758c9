package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.balloonlab.lab.BalloonLabCommand;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.lab.certs.LabCertificates;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.units.ExitCodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A lab over TLS with tokens on, in separate JVMs: the hypervisor serves TLS with a certificate from the lab's
 * CA and writes its tokens; a guest joins with the CA and the lab token (by environment); {@code balloonlab
 * status} works with the CA; {@code balloonlab balloon} without the operator token is refused in one line and
 * works with it.
 */
class SecurityIT {
  private Lab lab;
  private final List<JvmProcess> commands = new ArrayList<>();

  @AfterEach
  void tearDown() throws InterruptedException {
    for (JvmProcess p : commands) {
      p.close();
    }
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void aLabOverTlsWithTokensWorksWithTheRightFilesOnly() throws Exception {
    lab = new Lab("security-tls");
    Path certs = lab.logDir().resolve("certs");
    deleteTree(certs);
    LabCertificates.createCa(certs.resolve("ca"), "it", Duration.ofDays(1));
    LabCertificates.issue(certs.resolve("ca"), "hv", List.of("localhost", "127.0.0.1"), certs, Duration.ofDays(1));
    Path ca = certs.resolve("ca").resolve(LabCertificates.CA_CERT).toAbsolutePath();
    lab.useTls(new ClientSecurity(null, ca, null, null));
    lab.startHypervisor("--tls-cert", certs.resolve("hv.crt").toString(), "--tls-key",
        certs.resolve("hv.key").toString(), "--memory", "64MiB");
    assertTrue(lab.hypervisor().lines().stream().anyMatch(l -> l.startsWith("security: TLS")),
        "the hypervisor says it serves TLS");
    lab.startReadyGuest("vm1", "--memory", "16MiB", "--workload", "uniform:footprint=8MiB", "--duration", "1h");

    JvmProcess status = command("status", "status", "--hypervisor", lab.address(), "--tls-ca", ca.toString());
    assertEquals(0, exitCode(status));
    assertTrue(status.lines().stream().anyMatch(l -> l.contains("vm1")), String.join("\n", status.lines()));

    // Without the CA the status cannot even connect, and says why in its one line.
    JvmProcess plain = command("status-plain", "status", "--hypervisor", lab.address());
    assertEquals(ExitCodes.HYPERVISOR_LOST, exitCode(plain));
    assertEquals(1, errorLines(plain).size(), errorLines(plain).toString());
    assertTrue(errorLines(plain).get(0).startsWith("status: the hypervisor at " + lab.address() + " cannot be "
        + "reached or went away (UNAVAILABLE)"), errorLines(plain).toString());
    assertTrue(errorLines(plain).get(0).contains("--tls-ca"), "it says TLS may be why: " + errorLines(plain));

    JvmProcess refused = command("balloon-no-token", "balloon", "--hypervisor", lab.address(), "--tls-ca",
        ca.toString(), "vm1", "4MiB");
    assertEquals(5, exitCode(refused));
    assertEquals(List.of("balloon: UNAUTHENTICATED SetBalloonTarget needs the operator token, sent as "
        + "'authorization: Bearer <token>', and the call sent none; it is in "
        + lab.stateDir().resolve("operator.token") + " on the hypervisor's machine, where balloonlab commands "
        + "find it; elsewhere give --operator-token-file FILE or $BALLOONLAB_OPERATOR_TOKEN"), errorLines(refused));

    JvmProcess withLabToken = command("balloon-lab-token", "balloon", "--hypervisor", lab.address(), "--tls-ca",
        ca.toString(), "--lab-token-file", lab.stateDir().resolve("lab.token").toString(), "vm1", "4MiB");
    assertEquals(5, exitCode(withLabToken));
    assertTrue(errorLines(withLabToken).get(0).startsWith("balloon: PERMISSION_DENIED SetBalloonTarget needs the "
        + "operator token; the lab token is not enough"), errorLines(withLabToken).toString());

    JvmProcess allowed = command("balloon-operator", "balloon", "--hypervisor", lab.address(), "--tls-ca",
        ca.toString(), "--operator-token-file", lab.stateDir().resolve("operator.token").toString(), "vm1", "4MiB");
    assertEquals(0, exitCode(allowed), errorLines(allowed).toString());
    await("the balloon at its target").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.vm("vm1").getBalloon().getSizePages() == 4 * 256);
    assertEquals(0, lab.vm("vm1").getGuest().getIntegrityViolations());
    assertEquals(0, lab.vm("vm1").getGuest().getIsolationViolations());
  }

  private JvmProcess command(String name, String... args) throws IOException {
    // A child that inherited an operator token from the test's environment would not show the refusal.
    JvmProcess p = JvmProcess.start(name, BalloonLabCommand.class.getName(), List.of(args), "128m",
        lab.logDir().resolve("commands"), null);
    commands.add(p);
    return p;
  }

  private static int exitCode(JvmProcess p) throws InterruptedException {
    await(p.name() + " ends").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> !p.isAlive());
    p.stop(5, java.util.concurrent.TimeUnit.SECONDS);
    return p.process().exitValue();
  }

  private List<String> errorLines(JvmProcess p) throws IOException {
    return Files.readAllLines(lab.logDir().resolve("commands").resolve(p.name() + ".err.log")).stream()
        .filter(l -> !l.isBlank()).toList();
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
