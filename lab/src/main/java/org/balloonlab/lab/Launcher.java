package org.balloonlab.lab;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.hypervisor.cli.HypervisorCommand;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.HypervisorSpec;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.proto.GetMachineRequest;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.VmState;
import org.balloonlab.transport.Channels;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.transport.Token;
import org.balloonlab.transport.TokenFiles;
import org.balloonlab.transport.TokenKind;
import org.balloonlab.units.HostPort;

/**
 * The processes of one lab on this machine, each a child JVM ({@link JvmProcess}) logging into the run's folder:
 * the hypervisor of a {@link HypervisorSpec} and the guests of {@link GuestSpec}s, started with the flags their
 * specs give and no others. It reads the hypervisor's address from the line the hypervisor prints once it serves,
 * waits for a guest's ready line where the caller needs it, and stops a guest with SIGTERM (SIGKILL if it hangs),
 * which makes it audit its pages, power off and print its summary line ({@link GuestEnd}).
 *
 * <p>A launcher serves one run. Nothing is left running: every child is started with {@code --exit-with-parent}
 * and stops cleanly when this JVM goes away, however it goes; {@link #run} keeps a shutdown hook installed while the
 * run's body runs and stops every process when it ends. On Ctrl-C the hook asks the body to end (its waits here return or fail at once),
 * gives it a minute to stop its processes and write what it writes, then stops whatever is still alive.
 *
 * <p>Guests are powered on one at a time ({@link #powerOn}: a guest's JVM is started, and the next only once the
 * hypervisor lists its VM attached), so VM ids follow the scenario's order, not which JVM started first.
 * {@link LabRun} does so while it holds the lab clock and then runs the lab to each instant it has something to
 * do; {@code balloonlab translation} and {@code compare-paging} power theirs on while the clock is held at 0
 * ({@link #startOneByOne}), then let it run and wait for the workloads to end ({@link #awaitGuestsExit}).
 */
final class Launcher {
  /** How long a child may take to print that it is ready: JVMs start slowly on a small, busy machine. */
  private static final int READY_SECONDS = 60;
  private static final HostPort ANY_LOOPBACK_PORT = HostPort.parse("127.0.0.1:0");
  /**
   * Every child ends with its launcher ({@code ParentWatch}): it watches the standard input {@link JvmProcess}
   * keeps open, which closes when this JVM dies, even by SIGKILL.
   */
  private static final String EXIT_WITH_PARENT = "--exit-with-parent";

  private final Path dir;
  private final String hypervisorHeap;
  private final String guestHeap;
  /** Read by the shutdown hook's thread. */
  private final List<JvmProcess> children = new CopyOnWriteArrayList<>();
  private final Map<String, JvmProcess> guests = new LinkedHashMap<>();
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);
  private JvmProcess hypervisor;
  /** TLS toward the hypervisor, without a token. */
  private ClientSecurity tls = ClientSecurity.NONE;
  /** The operator token: given, or read from the files the hypervisor started here wrote; {@code null} if none. */
  private Token operator;
  /** The lab token, passed to every guest started here; {@code null} if none. */
  private Token lab;
  /** The hypervisor's TLS flags, passed on to it ({@code --tls-cert}, {@code --tls-key}, {@code --tls-client-ca}). */
  private List<String> hypervisorTls = List.of();

  /**
   * How a guest ended.
   *
   * @param vm the guest's name
   * @param exitCode its exit code, or -1 if it could not be stopped
   * @param summary its summary line without the prefix, or {@code null} if it printed none
   */
  record GuestEnd(String vm, int exitCode, String summary) {
  }

  /** What runs while the launcher's shutdown hook is installed. */
  @FunctionalInterface
  interface Body<T> {
    T call() throws IOException, InterruptedException;
  }

  /**
   * @param dir the run's folder: every process's log, and the hypervisor's address in {@code hypervisor.port}
   * @param hypervisorHeap the hypervisor JVM's maximum heap, such as {@code 768m}
   * @param guestHeap each guest JVM's maximum heap
   */
  Launcher(Path dir, String hypervisorHeap, String guestHeap) {
    this.dir = dir;
    this.hypervisorHeap = hypervisorHeap;
    this.guestHeap = guestHeap;
  }

  /**
   * How this launcher and what it launches reach the hypervisor: TLS files (passed on to guests as flags: paths are
   * not secret) and tokens (passed on to children by environment, never on their command line, which every user
   * sees in {@code ps}). A token left {@code null} is read from the files of the hypervisor started here, if any.
   *
   * @param hypervisorTlsFlags flags for the hypervisor started here, such as {@code --tls-cert FILE}
   */
  void secure(ClientSecurity clientTls, Token operatorToken, Token labToken, List<String> hypervisorTlsFlags) {
    this.tls = clientTls.withToken(null);
    this.operator = operatorToken;
    this.lab = labToken;
    this.hypervisorTls = List.copyOf(hypervisorTlsFlags);
  }

  /** The lab token guests started here get, or {@code null}. */
  Token labToken() {
    return lab;
  }

  /** The operator token this launcher holds, or {@code null}; for the dashboard it serves. */
  Token operatorToken() {
    return operator;
  }

  /**
   * A connection to the hypervisor's management service with the operator token if this launcher has it, else
   * the lab token (enough for the read-only views).
   */
  ManagementClient management(HostPort address) {
    return new ManagementClient(address, tls.withToken(operator != null ? operator : lab));
  }

  /** The folder of a run of {@code scenario} started now: {@code <report dir>/<name>-<date>-<time>}. */
  static Path newRunDirectory(Scenario scenario) {
    return Path.of(scenario.report().directory(), scenario.name() + "-"
        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)));
  }

  /** Where a process's standard error goes, for messages that send the reader there. */
  Path errorLog(String process) {
    return dir.resolve(process + ".err.log");
  }

  /**
   * Creates the run's folder and runs {@code body} with the shutdown hook installed; stops every process started
   * here when it ends, however it ends.
   */
  <T> T run(Body<T> body) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Thread hook = new Thread(this::onShutdown, "lab-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return body.call();
    } finally {
      stopAll();
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the hook is running and waits for us.
      }
    }
  }

  /**
   * Starts the hypervisor and waits until it serves.
   *
   * @param listen where it listens, overriding the spec's address; {@code null} for the spec's, or a free port on
   *     the loopback address if the spec gives none
   * @return the address it serves on
   */
  HostPort startHypervisor(HypervisorSpec spec, HostPort listen) throws IOException, InterruptedException {
    HostPort at = listen != null ? listen : spec.listen() != null ? spec.listen() : ANY_LOOPBACK_PORT;
    List<String> args = new ArrayList<>(spec.flags());
    args.addAll(List.of("--listen", at.toString(), "--port-file", dir.resolve("hypervisor.port").toString(),
        EXIT_WITH_PARENT));
    args.addAll(hypervisorTls);
    try {
      // A token in this process's environment reaches the child by inheritance; the launcher uses it too.
      operator = operator != null ? operator : TokenFiles.given(TokenKind.OPERATOR, null, System.getenv()).orElse(null);
      lab = lab != null ? lab : TokenFiles.given(TokenKind.LAB, null, System.getenv()).orElse(null);
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    hypervisor = JvmProcess.start("hypervisor", HypervisorCommand.class.getName(), args, hypervisorHeap, dir, null,
        tokenEnvironment(operator, lab));
    children.add(hypervisor);
    HostPort address = HostPort.parse(awaitLine(hypervisor, HypervisorCommand.LISTENING));
    if (address.host().equals("0.0.0.0") || address.host().equals("::")) {
      // Every interface includes loopback, which is what this machine dials (and a certificate names, not 0.0.0.0).
      address = new HostPort("127.0.0.1", address.port());
    }
    // The hypervisor generated the tokens it was not given and printed where it wrote them, before it listened.
    String tokenDir = hypervisor.lineStartingWith(HypervisorCommand.TOKENS);
    try {
      if (tokenDir != null && operator == null) {
        operator = TokenFiles.read(Path.of(tokenDir, TokenKind.OPERATOR.fileName()), TokenKind.OPERATOR);
      }
      if (tokenDir != null && lab == null) {
        lab = TokenFiles.read(Path.of(tokenDir, TokenKind.LAB.fileName()), TokenKind.LAB);
      }
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    return address;
  }

  /** The environment that hands {@code operatorToken} and {@code labToken} (either may be {@code null}) on. */
  private static Map<String, String> tokenEnvironment(Token operatorToken, Token labToken) {
    Map<String, String> env = new LinkedHashMap<>();
    if (operatorToken != null) {
      env.put(TokenKind.OPERATOR.environmentVariable(), operatorToken.reveal());
    }
    if (labToken != null) {
      env.put(TokenKind.LAB.environmentVariable(), labToken.reveal());
    }
    return env;
  }

  /** The TLS flags a guest or command takes to reach the hypervisor as this launcher does. */
  private List<String> clientTlsFlags() {
    List<String> flags = new ArrayList<>();
    if (tls.tlsCa() != null) {
      flags.addAll(List.of("--tls-ca", tls.tlsCa().toString()));
    }
    if (tls.tlsCert() != null) {
      flags.addAll(List.of("--tls-cert", tls.tlsCert().toString(), "--tls-key", tls.tlsKey().toString()));
    }
    return flags;
  }

  /** The hypervisor started here, or {@code null} if it runs elsewhere. */
  JvmProcess hypervisor() {
    return hypervisor;
  }

  /** Starts a guest agent that joins {@code hypervisor}; does not wait for it. */
  JvmProcess startGuest(GuestSpec guest, HostPort hypervisor) throws IOException {
    List<String> args = new ArrayList<>(List.of("--hypervisor", hypervisor.target()));
    args.addAll(guest.flags());
    // Nothing reads a guest's periodic status lines: the lab asks the hypervisor, and reads the summary at the end.
    args.addAll(List.of("--status-interval", "0s", EXIT_WITH_PARENT));
    args.addAll(clientTlsFlags());
    // Only the lab token: a guest has no business with the operator's.
    JvmProcess p = JvmProcess.start(guest.name(), GuestAgentCommand.class.getName(), args, guestHeap, dir, null,
        tokenEnvironment(null, lab));
    children.add(p);
    guests.put(guest.name(), p);
    return p;
  }

  /**
   * Powers a guest on: starts its JVM and waits until the hypervisor lists its VM attached, so that the next
   * guest powered on gets the next VM id.
   *
   * @throws IOException if the guest exits first, is not attached within a minute, or the run is asked to stop
   */
  JvmProcess powerOn(GuestSpec guest, HostPort hypervisor, ManagementClient management)
      throws IOException, InterruptedException {
    JvmProcess p = startGuest(guest, hypervisor);
    if (!awaitVms(management, vms -> vms.stream().anyMatch(v -> v.getName().equals(guest.name()) && v.getAttached()),
        p, Duration.ofSeconds(READY_SECONDS))) {
      throw new IOException(guest.name() + " was not attached within " + READY_SECONDS + " s; see "
          + errorLog(guest.name()));
    }
    return p;
  }

  /**
   * Polls the hypervisor's VMs until {@code condition} holds of them.
   *
   * @param watched a process whose exit ends the wait with an error, or {@code null}
   * @param limit how long to wait, or {@code null} for as long as it takes
   * @return whether the condition held within {@code limit}
   * @throws IOException if {@code watched} exits first or the run is asked to stop (Ctrl-C)
   */
  boolean awaitVms(ManagementClient management, Predicate<List<VmState>> condition, JvmProcess watched,
                   Duration limit) throws IOException, InterruptedException {
    long deadline = limit == null ? Long.MAX_VALUE : System.nanoTime() + limit.toNanos();
    while (true) {
      try {
        if (condition.test(management.stub().listVms(ListVmsRequest.getDefaultInstance()).getVmsList())) {
          return true;
        }
      } catch (StatusRuntimeException e) {
        // Not serving yet, or busy: asked again below.
      }
      if (watched != null && !watched.isAlive()) {
        throw new IOException(watched.name() + " exited with code " + watched.process().exitValue() + "; see "
            + errorLog(watched.name()));
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      if (awaitStop(TimeUnit.MILLISECONDS.toNanos(20))) {
        throw new IOException("interrupted while waiting for the hypervisor's VMs");
      }
    }
  }

  /**
   * Starts the scenario's hypervisor, then powers its guests on one at a time while holding the lab clock at 0, so
   * that they start their workloads together at lab time 0 with VM ids in the scenario's order; then lets the
   * clock run: for runs whose guests run their workloads to the end side by side.
   *
   * @return the hypervisor's address
   */
  HostPort startOneByOne(Scenario scenario) throws IOException, InterruptedException {
    HostPort address = startHypervisor(scenario.hypervisor(), null);
    try (ManagementClient management = management(address);
         RunClock clock = holdAtZero(management)) {
      for (GuestSpec g : scenario.guests()) {
        powerOn(g, address, management);
      }
    }
    return address;
  }

  /**
   * Takes hold of the lab clock at 0 if the hypervisor keeps one (lockstep); otherwise lab time is wall time from
   * now.
   */
  RunClock holdAtZero(ManagementClient management) throws IOException, InterruptedException {
    boolean lockstep;
    // The first call also connects: on a loaded machine a fresh JVM may need more than one call's deadline for
    // that, so a busy or unreachable hypervisor is asked again, up to the time a child gets to start.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_SECONDS);
    while (true) {
      try {
        lockstep = management.stub().getMachine(GetMachineRequest.getDefaultInstance()).getClock().getLockstep();
        break;
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        boolean passing = code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
        if (!passing || System.nanoTime() > deadline || hypervisor != null && !hypervisor.isAlive()) {
          throw new IOException("the hypervisor does not answer: " + code + " "
              + Channels.describe(e), e);
        }
      }
      if (awaitStop(TimeUnit.MILLISECONDS.toNanos(100))) {
        throw new IOException("interrupted while waiting for the hypervisor to answer");
      }
    }
    return lockstep ? ClockHold.open(management, this::stopRequested) : new WallPacing(this);
  }

  /** The guests started here, by name, in the order they were started. */
  Map<String, JvmProcess> guests() {
    return Collections.unmodifiableMap(guests);
  }

  /**
   * Waits until every guest started here has exited by itself.
   *
   * @param limit how long to wait
   * @param whileWaiting runs every {@code period} while a guest runs
   * @return the first guest (in start order) still running after {@code limit}, or empty if all exited
   * @throws IOException if the run is asked to stop (Ctrl-C) meanwhile
   */
  Optional<JvmProcess> awaitGuestsExit(Duration limit, Duration period, Runnable whileWaiting)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      Optional<JvmProcess> running = guests.values().stream().filter(JvmProcess::isAlive).findFirst();
      if (running.isEmpty() || System.nanoTime() > deadline) {
        return running;
      }
      if (awaitStop(period.toNanos())) {
        throw new IOException("interrupted while the guests ran");
      }
      whileWaiting.run();
    }
  }

  /**
   * Stops every guest started here (SIGTERM, then SIGKILL if it has not ended within {@code seconds}); a guest
   * that has exited already is only waited for, so that the end of its output (its summary) is read.
   *
   * @return how each ended, in start order
   */
  List<GuestEnd> stopGuests(int seconds) throws InterruptedException {
    List<GuestEnd> ends = new ArrayList<>();
    for (Map.Entry<String, JvmProcess> e : guests.entrySet()) {
      int code = e.getValue().stop(seconds, TimeUnit.SECONDS);
      ends.add(new GuestEnd(e.getKey(), code, e.getValue().lineStartingWith(GuestAgentCommand.SUMMARY)));
    }
    return ends;
  }

  /** The line that says a guest ended badly and where to look. */
  String endedBadly(GuestEnd end) {
    return String.format(Locale.ROOT, "%s exited with code %d (see %s)", end.vm(), end.exitCode(),
        errorLog(end.vm()));
  }

  /** Stops the hypervisor started here, if any; its guests should be stopped first. */
  void stopHypervisor() throws InterruptedException {
    if (hypervisor != null) {
      hypervisor.stop(10, TimeUnit.SECONDS);
    }
  }

  /** Whether the run is asked to stop (Ctrl-C). */
  boolean stopRequested() {
    return stopRequested.getCount() == 0;
  }

  /**
   * Sleeps up to {@code nanos}, waking early if the run is asked to stop (Ctrl-C).
   *
   * @return whether the run is asked to stop
   */
  boolean awaitStop(long nanos) throws InterruptedException {
    return stopRequested.await(nanos, TimeUnit.NANOSECONDS);
  }

  /** Waits for a line starting with {@code prefix} and answers the rest of it, as {@link JvmProcess} keeps it. */
  private String awaitLine(JvmProcess p, String prefix) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_SECONDS);
    while (System.nanoTime() < deadline) {
      String v = p.lineStartingWith(prefix);
      if (v != null) {
        return v;
      }
      if (!p.isAlive()) {
        throw new IOException(p.name() + " exited with code " + p.process().exitValue() + " before it was ready; "
            + "see " + errorLog(p.name()));
      }
      if (awaitStop(TimeUnit.MILLISECONDS.toNanos(20))) {
        throw new IOException("interrupted while " + p.name() + " was starting");
      }
    }
    throw new IOException(p.name() + " did not get ready within " + READY_SECONDS + " s");
  }

  /** Ctrl-C: asks the run to end, waits for it, then makes sure no process is left. */
  private void onShutdown() {
    stopRequested.countDown();
    try {
      finished.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stopAll();
  }

  /** Stops what is still alive, the last started first, so guests go before their hypervisor. */
  private void stopAll() {
    for (int i = children.size() - 1; i >= 0; i--) {
      JvmProcess p = children.get(i);
      if (p.isAlive()) {
        try {
          p.stop(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          p.close();
        }
      }
    }
  }
}
