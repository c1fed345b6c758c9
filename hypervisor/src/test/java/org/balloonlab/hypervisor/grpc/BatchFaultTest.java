package org.balloonlab.hypervisor.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.balloonlab.hypervisor.clock.ClockSettings;
import org.balloonlab.hypervisor.clock.LabClock;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.MachineSnapshot;
import org.balloonlab.hypervisor.machine.ReclamationOnLabClock;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.AccessAttach;
import org.balloonlab.proto.AccessBatch;
import org.balloonlab.proto.AccessRequest;
import org.balloonlab.proto.AccessResponse;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.QuantumDone;
import org.balloonlab.proto.VmSpec;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * No zombie VMs (issue 12, item 5): a bug or an {@link Error} thrown while a batch is applied powers the VM off
 * with all its memory returned and ends its stream with INTERNAL, on a lockstep lab clock and on a hypervisor that
 * runs free; another VM keeps running.
 */
class BatchFaultTest {
  private static final int FRAMES = 64;

  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  private Machine machine;
  private MachineServiceGrpc.MachineServiceStub stub;
  private ManagedChannel channel;
  private boolean lockstep;

  private void start(boolean lockstep) throws Exception {
    this.lockstep = lockstep;
    LabClock[] clock = new LabClock[1];
    machine = grpc.register(new Machine(new MachineConfig(FRAMES, 256, dir.resolve("host.swap"), 64,
        CostModel.DEFAULT, 3), TlbConfig.DEFAULT, lockstep ? () -> clock[0].labTimeNs() : System::nanoTime));
    if (lockstep) {
      clock[0] = grpc.register(new LabClock(new ClockSettings(1_000_000, 0, 30_000_000_000L),
          new ReclamationOnLabClock(machine, 10_000_000)));
    }
    String name = InProcessServerBuilder.generateName();
    grpc.register(new HypervisorServer(InProcessServerBuilder.forName(name), machine,
        Duration.ofHours(1), clock[0]).start());
    if (lockstep) {
      clock[0].start();
    }
    channel = grpc.register(InProcessChannelBuilder.forName(name).build());
    stub = MachineServiceGrpc.newStub(channel);
  }

  /** A guest that writes batches and answers every grant at once. */
  private final class Guest implements StreamObserver<AccessResponse> {
    final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    final PowerOnResponse vm;
    StreamObserver<AccessRequest> stream;

    Guest(String name) {
      vm = MachineServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .powerOn(PowerOnRequest.newBuilder().setSpec(VmSpec.newBuilder().setName(name).setMemoryPages(16)).build());
      synchronized (this) {
        stream = stub.access(this);
      }
      synchronized (this) {
        stream.onNext(AccessRequest.newBuilder().setAttach(AccessAttach.newBuilder().setVmId(vm.getVmId())
            .setCredential(vm.getCredential())).build());
      }
    }

    /** The next result or error, skipping grants (each answered at once). */
    Object nextAnswer() throws InterruptedException {
      while (true) {
        Object o = received.poll(10, TimeUnit.SECONDS);
        assertNotNull(o, "no answer within 10 s of wall time");
        if (o instanceof AccessResponse r && r.hasAttached()) {
          continue;
        }
        if (o instanceof AccessResponse r && r.hasGrant()) {
          continue;
        }
        return o;
      }
    }

    synchronized void send(AccessBatch.Builder batch) {
      stream.onNext(AccessRequest.newBuilder().setBatch(batch).build());
    }

    @Override
    public void onNext(AccessResponse value) {
      if (value.hasGrant()) {
        // Every quantum ends at once, so the clock never waits for this guest.
        synchronized (this) {
          stream.onNext(AccessRequest.newBuilder().setQuantumDone(QuantumDone.newBuilder()
              .setQuantum(value.getGrant().getQuantum()).setVmTimeNs(value.getGrant().getEndNs())).build());
        }
        return;
      }
      received.add(value);
    }

    @Override
    public void onError(Throwable t) {
      received.add(t);
    }

    @Override
    public void onCompleted() {
      received.add("completed");
    }
  }

  private static AccessBatch.Builder writes(long sequence, int pages, long base) {
    AccessBatch.Builder b = AccessBatch.newBuilder().setSequence(sequence);
    for (int pfn = 0; pfn < pages; pfn++) {
      AccessBatches.write(b, pfn, base + pfn);
    }
    return b;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"RuntimeException lockstep", "Error lockstep", "OutOfMemoryError lockstep",
      "RuntimeException free", "Error free"})
  void aThrowableMidBatchPowersTheVmOffWithItsMemoryReturned(String kind) throws Exception {
    start(kind.endsWith("lockstep"));
    Guest bystander = new Guest("bystander");
    bystander.send(writes(1, 8, 1000));
    assertInstanceOf(AccessResponse.class, bystander.nextAnswer());
    Guest victim = new Guest("victim");
    victim.send(writes(1, 8, 2000));
    assertInstanceOf(AccessResponse.class, victim.nextAnswer());
    int victimId = victim.vm.getVmId();
    Supplier<Throwable> thrown = switch (kind.split(" ")[0]) {
      case "RuntimeException" -> () -> new IllegalStateException("injected bug");
      case "OutOfMemoryError" -> () -> new OutOfMemoryError("injected: Java heap space");
      default -> () -> new AssertionError("injected assertion");
    };
    machine.injectBatchFaultForTests(i -> {
      // Half-way through a batch of the victim's: the entries before it are applied already.
      if (i == 4) {
        Throwable t = thrown.get();
        if (t instanceof Error e) {
          throw e;
        }
        throw (RuntimeException) t;
      }
    });
    victim.send(writes(2, 16, 3000));
    Object answer = victim.nextAnswer();
    machine.injectBatchFaultForTests(null);
    Throwable error = assertInstanceOf(Throwable.class, answer, "the stream must end, got " + answer);
    Status status = Status.fromThrowable(error);
    assertEquals(Status.Code.INTERNAL, status.getCode(), status.toString());
    assertTrue(status.getDescription().contains("victim") && status.getDescription().length() < 600,
        status.getDescription());
    // Released: no zombie holding memory.
    await().atMost(Duration.ofSeconds(10)).until(() -> machine.snapshot().vms().size() == 1);
    MachineSnapshot m = machine.snapshot();
    assertEquals("bystander", m.vms().get(0).name());
    assertEquals(8, m.mappedFrames());
    assertEquals(FRAMES - 8, m.freeFrames());
    machine.checkInvariants();
    // The bystander still runs and reads what it wrote.
    AccessBatch.Builder reads = AccessBatch.newBuilder().setSequence(2);
    for (int pfn = 0; pfn < 8; pfn++) {
      AccessBatches.read(reads, pfn);
    }
    bystander.send(reads);
    AccessResponse r = assertInstanceOf(AccessResponse.class, bystander.nextAnswer());
    for (int pfn = 0; pfn < 8; pfn++) {
      assertEquals(1000L + pfn, AccessBatches.readValues(r.getResult()).get(pfn));
    }
  }
}
