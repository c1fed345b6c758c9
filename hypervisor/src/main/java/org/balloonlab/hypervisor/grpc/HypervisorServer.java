package org.balloonlab.hypervisor.grpc;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.balloonlab.hypervisor.clock.LabClock;
import org.balloonlab.hypervisor.machine.Machine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hypervisor's gRPC server: the machine, management and balloon services, health and reflection, and a reaper that
 * powers off VMs whose guest never attached or went away cleanly without powering off.
 *
 * <p>It takes a {@link ServerBuilder} so tests build it in process and the command line builds it on a port.
 */
public final class HypervisorServer {
  private static final Logger log = LoggerFactory.getLogger(HypervisorServer.class);

  private final Machine machine;
  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();
  private final Duration detachTimeout;
  private final ScheduledExecutorService reaper;
  private final BalloonGrpcService balloon;
  private final ManagementGrpcService management;
  private final LabClockEdge clock;

  /** A server for a hypervisor that runs free: no lab clock, every call applied as it arrives. */
  public HypervisorServer(ServerBuilder<?> builder, Machine machine, Duration detachTimeout) {
    this(builder, machine, detachTimeout, null);
  }

  /**
   * A server whose VMs run on {@code clock} ({@code docs/lab-clock.md}), or free when it is {@code null}. The clock
   * learns from the machine when a VM goes, so it stops waiting for it.
   */
  public HypervisorServer(ServerBuilder<?> builder, Machine machine, Duration detachTimeout, LabClock clock) {
    this(builder, machine, detachTimeout, clock, null);
  }

  /**
   * A server whose every call first passes {@code gate} ({@link ServerGate}: the operator and lab tokens), or
   * none when it is {@code null}.
   */
  public HypervisorServer(ServerBuilder<?> builder, Machine machine, Duration detachTimeout, LabClock clock,
                          ServerInterceptor gate) {
    this.machine = machine;
    this.detachTimeout = detachTimeout;
    this.clock = new LabClockEdge(clock);
    this.reaper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "detached-vm-reaper");
      t.setDaemon(true);
      return t;
    });
    MachineGrpcService vms = new MachineGrpcService(machine, this.clock);
    machine.onRelease(id -> {
      if (clock != null) {
        clock.leave(id, "VM " + id + " was released at lab time " + clock.labTimeNs() + " ns while the clock ran");
      }
      vms.released(id, reaper);
    });
    this.balloon = new BalloonGrpcService(machine, this.clock);
    this.management = new ManagementGrpcService(machine, this.clock);
    if (gate != null) {
      builder.intercept(gate);
    }
    this.server = builder
        .addService(vms)
        .addService(management)
        .addService(balloon)
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .build();
  }

  /** Injects {@code faults} ({@code --inject}) from now on; call before {@link #start()}. */
  public HypervisorServer inject(InjectedFaults faults) {
    balloon.inject(faults);
    return this;
  }

  public HypervisorServer start() throws IOException {
    server.start();
    long periodMs = Math.max(50, detachTimeout.toMillis() / 4);
    reaper.scheduleWithFixedDelay(
        () -> {
          try {
            // A wall-clock grace for guests that went away; under the lab clock the release lands at a boundary.
            long now = System.nanoTime();
            clock.command(() -> machine.reapDetached(now, detachTimeout.toNanos()), false);
          } catch (RuntimeException e) {
            log.error("reaping detached VMs failed", e);
          }
        },
        periodMs, periodMs, TimeUnit.MILLISECONDS);
    return this;
  }

  /** The port the server listens on; -1 in process. */
  public int port() {
    return server.getPort();
  }

  public void stop() throws InterruptedException {
    health.enterTerminalState();
    reaper.shutdownNow();
    balloon.close();
    management.close();
    server.shutdown();
    if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  public void blockUntilShutdown() throws InterruptedException {
    server.awaitTermination();
  }
}
