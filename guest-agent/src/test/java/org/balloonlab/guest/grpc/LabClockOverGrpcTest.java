package org.balloonlab.guest.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.vcpu.Vcpu;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.QuantumDone;
import org.balloonlab.swap.SwapDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A guest on the lab clock over in-process gRPC, against a fake hypervisor that grants quanta and checks answers. */
class LabClockOverGrpcTest {
  static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir
  Path dir;

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  /** One guest: its fake hypervisor, its stream, its OS and vCPU (running on a thread of its own). */
  private final class Guest {
    final FakeLockstepMachine machine;
    final RemotePhysicalMemory memory;
    final GuestOs os;
    final Vcpu vcpu;
    final GuestCounters counters = new GuestCounters();
    final List<long[]> quantumStarts = new ArrayList<>();
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    final Thread thread;

    Guest(String name, FakeLockstepMachine machine, String workload) throws Exception {
      this.machine = machine;
      String server = InProcessServerBuilder.generateName();
      Server s = InProcessServerBuilder.forName(server).addService(machine).build().start();
      ManagedChannel channel = InProcessChannelBuilder.forName(server).build();
      closeables.add(() -> {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      });
      MachineConnection conn = new MachineConnection(channel);
      PowerOnResponse vm = conn.powerOn(name, "linux", 64);
      assertTrue(vm.getLabClock().getLockstep());
      memory = conn.openMemory(32, 4, GuestOs.checkerFor(vm.getVmId(), counters));
      closeables.add(memory::close);
      os = new GuestOs(vm.getVmId(), 64, memory, new SwapDevice(dir.resolve(name + ".swap"), 1024),
          conn.guestCosts(), counters);
      closeables.add(os);
      vcpu = new Vcpu(os, new Vcpu.Options(25, 3 * MS, MS, 0, 0, 5), memory.labClock());
      vcpu.start(name + "-hot", WorkloadSpec.parse("hotset:footprint=512KiB").create());
      vcpu.start(name + "-paced", WorkloadSpec.parse(workload).create());
      vcpu.atQuantumStart((vmTime, doorbell) -> quantumStarts.add(new long[] {vmTime, doorbell ? 1 : 0}));
      thread = new Thread(() -> {
        try {
          vcpu.run();
        } catch (Throwable t) {
          failure.set(t);
        }
      }, "vcpu-" + name);
      thread.start();
      closeables.add(() -> {
        vcpu.stop();
        thread.join(TimeUnit.SECONDS.toMillis(5));
      });
    }

    /** Waits for the held clock, stops the guest and waits until it left. */
    List<QuantumDone> runToTheHoldAndStop(int quanta) throws InterruptedException {
      await().atMost(WAIT).until(() -> machine.dones().size() == quanta);
      vcpu.stop();
      await().atMost(WAIT).until(machine::left);
      thread.join(TimeUnit.SECONDS.toMillis(5));
      assertFalse(thread.isAlive());
      return machine.dones();
    }
  }

  @Test
  void theGuestEndsEveryGrantedQuantumWithItsExactTimeThenLeavesAndAuditsOutsideTheClock() throws Exception {
    long join = 40 * MS;
    FakeLockstepMachine machine = new FakeLockstepMachine(join, MS, 12, 4L);
    Guest g = new Guest("vm1", machine, "uniform:footprint=64KiB,rate=20000");

    List<QuantumDone> dones = g.runToTheHoldAndStop(12);

    assertEquals(List.of(), machine.violations());
    assertEquals(13, dones.size(), "twelve quanta, then leaving while the clock is held");
    int reports = 0;
    for (QuantumDone d : dones.subList(0, 12)) {
      assertFalse(d.getLeaving());
      if (d.hasGuestReport()) {
        reports++;
        assertEquals(d.getVmTimeNs() - join, d.getGuestReport().getSimulatedNs(), "exact: taken after the drain");
      }
    }
    assertTrue(reports >= 3 && reports <= 5, "a report every 3 ms of simulated time: " + reports);
    QuantumDone leaving = dones.get(12);
    assertTrue(leaving.getLeaving());
    assertEquals(12, leaving.getQuantum());
    assertTrue(leaving.getGuestReport().getWorkloadDone());
    assertEquals(dones.get(11).getVmTimeNs(), leaving.getVmTimeNs(), "nothing ran since the last quantum");
    assertEquals(1, g.quantumStarts.stream().filter(s -> s[1] == 1).count(), "the doorbell of quantum 4, once");
    assertEquals(1, g.quantumStarts.get(3)[1]);
    assertEquals(dones.get(2).getVmTimeNs(), g.quantumStarts.get(3)[0], "kernel work starts at the VM's time");

    g.vcpu.verifyAll();
    g.memory.flush();
    assertTrue(machine.batchesAfterLeaving() > 0, "the audit runs outside the clock");
    assertEquals(0, g.counters.integrityViolations());
  }

  @Test
  void twoRunsOfTheSameGuestAnswerTheSameQuantaAtTheSameTimesWithTheSameReports() throws Exception {
    List<QuantumDone> first = new Guest("vm1", new FakeLockstepMachine(0, 500_000, 30), "idle:footprint=64KiB,rate=5000")
        .runToTheHoldAndStop(30);
    List<QuantumDone> second = new Guest("vm2", new FakeLockstepMachine(0, 500_000, 30),
        "idle:footprint=64KiB,rate=5000").runToTheHoldAndStop(30);
    assertEquals(first.size(), second.size());
    for (int i = 0; i < first.size(); i++) {
      QuantumDone a = first.get(i);
      QuantumDone b = second.get(i);
      assertEquals(a.getQuantum(), b.getQuantum());
      assertEquals(a.getVmTimeNs(), b.getVmTimeNs(), "quantum " + a.getQuantum());
      // The workload names its process after the VM; every count is the same.
      assertEquals(a.getGuestReport().toBuilder().clearWorkload().build(),
          b.getGuestReport().toBuilder().clearWorkload().build(), "quantum " + a.getQuantum());
    }
  }

  @Test
  void aVmPoweredOffWhileItWaitsForAGrantEndsWithTheHypervisorsReason() throws Exception {
    FakeLockstepMachine machine = new FakeLockstepMachine(0, MS, 3);
    Guest g = new Guest("vm1", machine, "idle:footprint=64KiB");
    await().atMost(WAIT).until(() -> machine.dones().size() == 3);

    machine.powerOffUnder();

    g.thread.join(TimeUnit.SECONDS.toMillis(5));
    assertFalse(g.thread.isAlive());
    StatusRuntimeException e = assertInstanceOf(StatusRuntimeException.class, g.failure.get());
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    assertFalse(machine.left(), "it never said it was leaving: the hypervisor ended it");
  }
}
