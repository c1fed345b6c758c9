package org.balloonlab.benchmarks.dataplane;

import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.balloonlab.benchmarks.HypervisorJvm;
import org.balloonlab.guest.grpc.MachineConnection;
import org.balloonlab.guest.grpc.RemotePhysicalMemory;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.swap.SwapDevice;

/**
 * This JVM as the guest agent on a hypervisor in its own JVM, for one {@link ThroughputRun}: the agent's channel,
 * power-on over {@code MachineService}, the access stream through {@link RemotePhysicalMemory} with its batches
 * and in-flight window, a {@link GuestOs} with its own swap, and power-off at the end.
 *
 * <p>As the agent does, the guest runs on the lab clock when {@code PowerOnResponse.lab_clock} says the hypervisor
 * keeps one: its vCPU takes its quanta from the access stream ({@link RemotePhysicalMemory#labClock()}), here
 * through a {@link MeasuredLabClock}, which counts them and makes the run's stop leave the clock in a quantum. A
 * hypervisor started with {@code --lab-clock free} gets a guest that runs free.
 */
final class GrpcGuest {

  /**
   * The guest's size and data path.
   *
   * @param vmPages the VM's memory
   * @param swapPages the guest's swap device
   * @param batch accesses per batch
   * @param window batches in flight at most
   */
  record Shape(int vmPages, int swapPages, int batch, int window) {}

  /**
   * What one guest measured.
   *
   * @param lockstep the hypervisor kept the lab clock and the guest ran on it
   * @param quanta quanta the vCPU took in the measured phase (0 when it ran free); see {@link MeasuredLabClock}
   */
  record Outcome(ThroughputRun.Result result, boolean lockstep, MeasuredLabClock.Counts quanta) {}

  private GrpcGuest() {}

  /**
   * Powers VM {@code name} on at {@code hypervisor}, runs {@code run} on it from the calling thread and powers it
   * off.
   *
   * @param swapDir where the guest's swap file goes
   * @throws io.grpc.StatusRuntimeException if the hypervisor refuses or fails the run
   */
  static Outcome run(HypervisorJvm hypervisor, String name, ThroughputRun run, Shape shape, Path swapDir)
      throws Exception {
    ManagedChannel channel = MachineConnection.channel(hypervisor.target(), shape.batch(),
        hypervisor.guestSecurity());
    try {
      MachineConnection connection = new MachineConnection(channel);
      PowerOnResponse vm = connection.powerOn(name, "linux", shape.vmPages());
      boolean lockstep = vm.getLabClock().getLockstep();
      GuestCounters counters = new GuestCounters();
      Outcome outcome;
      try (SwapDevice swap = new SwapDevice(swapDir.resolve(name + ".swap"), shape.swapPages());
           RemotePhysicalMemory memory = connection.openMemory(shape.batch(), shape.window(),
               GuestOs.checkerFor(vm.getVmId(), counters));
           GuestOs os = new GuestOs(vm.getVmId(), shape.vmPages(), memory, swap, connection.guestCosts(), counters)) {
        MeasuredLabClock quanta = lockstep ? new MeasuredLabClock(memory.labClock()) : null;
        ThroughputRun.Result result = run.run(os, hypervisor::cpuNanos, quanta);
        outcome = new Outcome(result, lockstep, quanta == null ? MeasuredLabClock.Counts.NONE : quanta.counts());
      }
      connection.powerOff();
      return outcome;
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
