package org.balloonlab.it;

import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

  Lab(String testName) throws IOException {
    this.logDir = Path.of("target", "it-logs", testName);
    Files.createDirectories(logDir);
  }

  /**
   * Starts the hypervisor on a free port and waits until it serves. Its lab clock runs as fast as the CPUs allow
   * ({@code --pace max}) unless the test says otherwise: a test's waits are on wall time, its lab's on simulated.
   */
  void startHypervisor(String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("--listen", "127.0.0.1:0"));
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
    channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
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
    all.addAll(List.of(args));
    JvmProcess guest = JvmProcess.start(name, GuestAgentCommand.class.getName(), all, "256m", logDir, null);
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
