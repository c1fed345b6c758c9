package org.balloonlab.benchmarks.balloon;

import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.balloon.driver.DriverStats;
import org.balloonlab.balloon.grpc.GrpcBalloonHost;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.balloon.GuestBalloonKernel;
import org.balloonlab.guest.grpc.MachineConnection;
import org.balloonlab.guest.grpc.RemotePhysicalMemory;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.vcpu.Vcpu;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.VmState;
import org.balloonlab.swap.SwapDevice;
import org.balloonlab.transport.Channels;
import org.balloonlab.transport.ClientSecurity;

/**
 * One guest in the harness JVM, wired exactly as {@code GuestAgentCommand} wires it: power-on over
 * {@code MachineService} on the data channel, a {@link GuestOs} over {@link RemotePhysicalMemory} with its own
 * swap, a {@link Vcpu} running the workload (here on a thread of its own, where the agent runs it on its main
 * thread), and a {@link BalloonDriver} whose kernel is a {@link GuestBalloonKernel} on that vCPU and whose host is
 * a {@link GrpcBalloonHost} on a second, private channel built as the agent builds it. The only additions are
 * the two pass-through wrappers the benchmark times with ({@link InstrumentedBalloonKernel},
 * {@link InstrumentedBalloonHost}); the latter also stands in for a driver without a doorbell when asked.
 */
final class BalloonGuest implements AutoCloseable {
  /** What the guest found when it was shut down; every field must be zero or agree for a clean run. */
  record Audit(String name, long integrityViolations, long isolationViolations, long balloonFaults,
               long balloonResets, long driverResets, long driverHostErrors, long hypervisorBalloonPages,
               long driverBalloonPages, long osBalloonPages, String vcpuFailure) {
    long violations() {
      return integrityViolations + isolationViolations;
    }

    /** Ways the balloon's three views disagree, or the balloon was reset or faulted on: should be none. */
    long balloonInconsistencies() {
      long n = balloonFaults + balloonResets + driverResets;
      if (hypervisorBalloonPages != driverBalloonPages || driverBalloonPages != osBalloonPages) {
        n++;
      }
      return n + (vcpuFailure == null ? 0 : 1);
    }
  }

  private final String name;
  private final int footprintPages;
  private final ManagedChannel channel;
  private final ManagedChannel balloonChannel;
  private MachineConnection connection;
  private PowerOnResponse vm;
  private final GuestCounters counters = new GuestCounters();
  private SwapDevice swap;
  private RemotePhysicalMemory memory;
  private GuestOs os;
  private Vcpu cpu;
  private Thread cpuThread;
  private volatile Throwable cpuFailure;
  private InstrumentedBalloonKernel kernel;
  private InstrumentedBalloonHost host;
  private BalloonDriver driver;
  private boolean poweredOff;
  private boolean closed;

  private BalloonGuest(String name, int footprintPages, String target, ClientSecurity security, int dataBatch) {
    this.name = name;
    this.footprintPages = footprintPages;
    this.channel = MachineConnection.channel(target, dataBatch, security);
    // The balloon driver's private channel, as the guest agent builds it.
    this.balloonChannel = Channels.builder(target, security).build();
  }

  /**
   * Powers a VM on and boots the guest: the workload starts on the vCPU thread, the driver on its own.
   *
   * @param doorbell whether the driver may use the doorbell; without it, it only polls
   */
  static BalloonGuest start(String target, ClientSecurity security, String name, int vmPages, WorkloadSpec workload, Path swapFile,
                            BalloonDriver.Config config, boolean doorbell, int dataBatch, int window, int slice,
                            long seed) {
    BalloonGuest g = new BalloonGuest(name, workload.footprintPages(), target, security, dataBatch);
    try {
      g.boot(vmPages, workload, swapFile, config, doorbell, dataBatch, window, slice, seed);
      return g;
    } catch (RuntimeException | Error e) {
      g.close();
      throw e;
    }
  }

  private void boot(int vmPages, WorkloadSpec workload, Path swapFile, BalloonDriver.Config config,
                    boolean doorbell, int dataBatch, int window, int slice, long seed) {
    connection = new MachineConnection(channel);
    vm = connection.powerOn(name, "linux", vmPages);
    int swapPages = Math.max(vmPages / 8, 2 * workload.footprintPages());
    swap = new SwapDevice(swapFile, swapPages);
    memory = connection.openMemory(dataBatch, window, GuestOs.checkerFor(vm.getVmId(), counters));
    os = new GuestOs(vm.getVmId(), vmPages, memory, swap, connection.guestCosts(), counters);
    cpu = new Vcpu(os, new Vcpu.Options(slice, TimeUnit.MILLISECONDS.toNanos(100), TimeUnit.MILLISECONDS.toNanos(5),
        0, 0, seed));
    cpu.start(name + "-p0", workload.create());
    kernel = new InstrumentedBalloonKernel(new GuestBalloonKernel(os, cpu));
    host = new InstrumentedBalloonHost(new GrpcBalloonHost(balloonChannel, vm.getVmId(), vm.getCredential()),
        doorbell);
    driver = new BalloonDriver(kernel, host, config);
    cpuThread = new Thread(() -> {
      try {
        cpu.run();
      } catch (Throwable t) {
        cpuFailure = t;
      }
    }, "vcpu-" + name);
    cpuThread.setDaemon(true);
    cpuThread.start();
    driver.start();
  }

  /**
   * Waits until the workload has touched its footprint and the driver has finished its first round (session,
   * target, stats), with the doorbell listening if it has one.
   */
  void awaitReady(Duration timeout, boolean doorbell) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      GuestStatus s = cpu.lastStatus();
      DriverStats d = driver.stats();
      boolean touched = s != null && s.accesses() >= footprintPages;
      boolean driverReady = d.connected() && host.counts().statsCalls() >= 1 && (!doorbell || d.doorbellRings() >= 1);
      if (touched && driverReady) {
        return;
      }
      if (cpuFailure != null) {
        throw new IllegalStateException("the vCPU of " + name + " failed", cpuFailure);
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(name + " not ready within " + timeout.toSeconds() + " s: touched "
            + (s == null ? 0 : s.accesses()) + " of " + footprintPages + " pages; driver " + d);
      }
      Thread.sleep(5);
    }
  }

  String name() {
    return name;
  }

  int vmId() {
    return vm.getVmId();
  }

  Vcpu cpu() {
    return cpu;
  }

  GuestOs os() {
    return os;
  }

  BalloonDriver driver() {
    return driver;
  }

  InstrumentedBalloonHost host() {
    return host;
  }

  InstrumentedBalloonKernel kernel() {
    return kernel;
  }

  /**
   * Stops the driver (the balloon stays as it is) and the vCPU, audits every page of the workload, compares the
   * balloon as the hypervisor, the driver and the guest OS count it, and powers the VM off.
   *
   * @param hypervisorView the VM as the hypervisor sees it now, read by the caller over ManagementService
   */
  Audit finish(java.util.function.IntFunction<VmState> hypervisorView) throws InterruptedException {
    driver.stop();
    cpu.stop();
    cpuThread.join(TimeUnit.SECONDS.toMillis(10));
    String failure = cpuFailure == null ? (cpuThread.isAlive() ? "the vCPU did not stop" : null)
        : cpuFailure.toString();
    if (failure == null) {
      // Reads back every page the workload wrote; mismatches land in the counters.
      cpu.verifyAll();
    }
    VmState before = hypervisorView.apply(vm.getVmId());
    DriverStats d = driver.stats();
    long osBalloon = failure == null ? os.balloonPages() : -1;
    memory.close();
    VmState last = connection.powerOff();
    poweredOff = true;
    return new Audit(name, counters.integrityViolations(), counters.isolationViolations(),
        last.getCounters().getBalloonFaults(), last.getBalloon().getResets(), d.resets(), d.hostErrors(),
        before.getBalloon().getSizePages(), d.sizePages(), osBalloon, failure);
  }

  /** Releases everything, whatever state the guest is in; safe to call twice and from a shutdown hook. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (driver != null) {
        driver.stop();
      }
      if (cpu != null) {
        cpu.stop();
      }
      if (cpuThread != null) {
        try {
          cpuThread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (memory != null && !poweredOff) {
        try {
          memory.close();
        } catch (RuntimeException e) {
          // The stream is gone with the hypervisor; nothing to flush to.
        }
      }
      if (connection != null && vm != null && !poweredOff) {
        try {
          connection.powerOff();
        } catch (RuntimeException e) {
          // The hypervisor is going away too.
        }
      }
      if (os != null) {
        os.close(); // closes (and deletes) the guest's swap
      } else if (swap != null) {
        swap.close();
      }
    } finally {
      shutdownChannels();
    }
  }

  /** Shuts both channels down at once; what a shutdown hook may do without waiting on the guest's threads. */
  void shutdownChannels() {
    balloonChannel.shutdownNow();
    channel.shutdownNow();
    try {
      balloonChannel.awaitTermination(5, TimeUnit.SECONDS);
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
