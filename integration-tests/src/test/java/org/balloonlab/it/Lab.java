package org.balloonlab.it;

import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.hypervisor.cli.HypervisorCommand;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.DriverMode;
import org.balloonlab.proto.DriverModeRequest;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmState;
import org.balloonlab.transport.Channels;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.transport.Token;
import org.balloonlab.transport.TokenFiles;
import org.balloonlab.transport.TokenKind;

/**
 * A hypervisor and its guests as child JVMs for one test, and a management client to watch them. Closing it
 * kills every process it started and closes the channel, whatever state the test left them in.
 */
final class Lab implements AutoCloseable {
  private final Path logDir;
  private final List<JvmProcess> processes = new ArrayList<>();
  private JvmProcess hypervisor;
  private String address;
  private ManagedChannel channel;
  private ManagementServiceGrpc.ManagementServiceBlockingStub management;
  /** The hypervisor's state directory, where it writes the tokens it generates. */
  private final Path stateDir;
  private Token operatorToken;
  private Token labToken;
  /** TLS toward the hypervisor (no token), for tests that start it with TLS. */
  private ClientSecurity tls = ClientSecurity.NONE;

  Lab(String testName) throws IOException {
    this.logDir = Path.of("target", "it-logs", testName);
    Files.createDirectories(logDir);
    this.stateDir = logDir.toAbsolutePath().resolve("hypervisor-state");
    // A private directory is required; an earlier run's is reused (the hypervisor replaces the token files).
    if (Files.exists(stateDir)) {
      Files.setPosixFilePermissions(stateDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }
  }

  /** TLS settings (CA, client certificate) with which this lab's clients and guests reach the hypervisor. */
  void useTls(ClientSecurity clientTls) {
    this.tls = clientTls;
  }

  /**
   * Starts the hypervisor on a free port and waits until it serves. Its lab clock runs as fast as the CPUs allow
   * ({@code --pace max}) unless the test says otherwise: a test's waits are on wall time, its lab's on simulated.
   */
  void startHypervisor(String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("--listen", "127.0.0.1:0", "--state-dir", stateDir.toString()));
    if (!List.of(args).contains("--pace")) {
      all.addAll(List.of("--pace", "max"));
    }
    all.addAll(List.of(args));
    hypervisor = JvmProcess.start("hypervisor", HypervisorCommand.class.getName(), all, "256m", logDir, null);
    processes.add(hypervisor);
    await("hypervisor listening").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> hypervisor.lineStartingWith(HypervisorCommand.LISTENING) != null || !hypervisor.isAlive());
    address = hypervisor.lineStartingWith(HypervisorCommand.LISTENING);
    if (address == null) {
      throw new IOException("the hypervisor exited before serving; see " + logDir);
    }
    // The tokens the hypervisor generated, where it said it wrote them; the operator's for this client.
    String tokens = hypervisor.lineStartingWith(HypervisorCommand.TOKENS);
    if (tokens == null) {
      throw new IOException("the hypervisor printed no " + HypervisorCommand.TOKENS + "line; see " + logDir);
    }
    operatorToken = TokenFiles.read(Path.of(tokens, TokenKind.OPERATOR.fileName()), TokenKind.OPERATOR);
    labToken = TokenFiles.read(Path.of(tokens, TokenKind.LAB.fileName()), TokenKind.LAB);
    channel = Channels.builder(address, tls.withToken(operatorToken)).build();
    management = ManagementServiceGrpc.newBlockingStub(channel);
  }

  /** Starts a hypervisor process without waiting for it, for command lines that should be refused. */
  JvmProcess startHypervisorProcessOnly(String... args) throws IOException {
    JvmProcess p = JvmProcess.start("hypervisor", HypervisorCommand.class.getName(), List.of(args), "128m", logDir,
        null);
    processes.add(p);
    return p;
  }

  /** Starts a guest; does not wait for it. */
  JvmProcess startGuest(String name, String... args) throws IOException {
    return startGuestAt(address, name, args);
  }

  /** Starts a guest that joins the hypervisor at {@code hypervisorAddress} (a proxy in front of it); no wait. */
  JvmProcess startGuestAt(String hypervisorAddress, String name, String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("--hypervisor", hypervisorAddress, "--name", name,
        "--status-interval", "0s"));
    all.addAll(tlsFlags());
    all.addAll(List.of(args));
    // The lab token by environment, as balloonlab run hands it to its guests.
    JvmProcess guest = JvmProcess.start(name, GuestAgentCommand.class.getName(), all, "256m", logDir, null,
        Map.of(TokenKind.LAB.environmentVariable(), labToken.reveal()));
    processes.add(guest);
    return guest;
  }

  /** Starts a guest and waits until its VM is powered on and attached. */
  JvmProcess startReadyGuest(String name, String... args) throws IOException {
    JvmProcess guest = startGuest(name, args);
    awaitReady(guest);
    return guest;
  }

  /** Waits until a started guest's VM is powered on and attached. */
  void awaitReady(JvmProcess guest) throws IOException {
    String name = guest.name();
    await(name + " ready").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> guest.lineStartingWith(GuestAgentCommand.READY) != null || !guest.isAlive());
    if (guest.lineStartingWith(GuestAgentCommand.READY) == null) {
      throw new IOException(name + " exited before it was ready; see " + logDir);
    }
  }

  ListVmsResponse state() {
    return management.withDeadlineAfter(5, TimeUnit.SECONDS).listVms(ListVmsRequest.getDefaultInstance());
  }

  VmState setBalloonTarget(String name, long pages) {
    return management.withDeadlineAfter(5, TimeUnit.SECONDS).setBalloonTarget(SetBalloonTargetRequest.newBuilder()
        .setVm(VmSelector.newBuilder().setName(name)).setTargetPages(pages).build());
  }

  VmState setDriverMode(String name, DriverMode mode) {
    return management.withDeadlineAfter(5, TimeUnit.SECONDS).setDriverMode(SetDriverModeRequest.newBuilder()
        .setVm(VmSelector.newBuilder().setName(name))
        .setMode(DriverModeRequest.newBuilder().setMode(mode).setStuckProbability(1.0)).build());
  }

  VmState vm(String name) {
    return vm(state(), name);
  }

  static VmState vm(ListVmsResponse state, String name) {
    return state.getVmsList().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no VM named " + name + " in " + state.getVmsList()));
  }

  /** The TLS flags of a client of this lab: {@code --tls-ca}, and {@code --tls-cert}/{@code --tls-key} if set. */
  List<String> tlsFlags() {
    List<String> flags = new ArrayList<>();
    if (tls.tlsCa() != null) {
      flags.addAll(List.of("--tls-ca", tls.tlsCa().toString()));
    }
    if (tls.tlsCert() != null) {
      flags.addAll(List.of("--tls-cert", tls.tlsCert().toString(), "--tls-key", tls.tlsKey().toString()));
    }
    return flags;
  }

  /** The hypervisor's state directory, where its token files are. */
  Path stateDir() {
    return stateDir;
  }

  Token labToken() {
    return labToken;
  }

  JvmProcess hypervisor() {
    return hypervisor;
  }

  String address() {
    return address;
  }

  Path logDir() {
    return logDir;
  }

  @Override
  public void close() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (int i = processes.size() - 1; i >= 0; i--) {
      JvmProcess p = processes.get(i);
      if (p.isAlive()) {
        p.stop(10, TimeUnit.SECONDS);
      }
    }
  }
}
