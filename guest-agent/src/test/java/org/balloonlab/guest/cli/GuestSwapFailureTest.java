package org.balloonlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.balloonlab.hypervisor.grpc.HypervisorServer;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.swap.SlotStore;
import org.balloonlab.swap.SwapDevice;
import org.balloonlab.units.CommandLineConverters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The guest's swap failing: at start (no room: the VM is never powered on) or during the run (an I/O error: the
 * guest ends with one line and exit 6, and its VM is powered off, so the hypervisor holds nothing).
 */
class GuestSwapFailureTest {
  @TempDir
  Path dir;

  private Machine machine;
  private HypervisorServer hypervisor;

  /** Guest swap storage in memory whose writes or reads fail on demand. */
  static final class FailingStore implements SlotStore {
    private final long[] slots;
    volatile boolean failWrites;
    volatile boolean failReads;

    FailingStore(int slots) {
      this.slots = new long[slots];
    }

    @Override
    public void write(int slot, long token) throws IOException {
      if (failWrites) {
        throw new IOException("Input/output error");
      }
      slots[slot] = token;
    }

    @Override
    public long read(int slot) throws IOException {
      if (failReads) {
        throw new IOException("Input/output error");
      }
      return slots[slot];
    }

    @Override
    public void close() {
    }
  }

  record Result(int code, String out, String err) {}

  @BeforeEach
  void startHypervisor() throws IOException {
    machine = new Machine(new MachineConfig(128, 4_096, dir.resolve("host.swap"), 4_096, CostModel.DEFAULT, 1));
    hypervisor = new HypervisorServer(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)), machine,
        Duration.ofHours(1)).start();
  }

  @AfterEach
  void stopHypervisor() throws InterruptedException {
    hypervisor.stop();
    machine.close();
  }

  private Result run(GuestAgentCommand command, String swapFile) {
    CommandLine cl = CommandLineConverters.register(new CommandLine(command));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> cl.execute("--hypervisor",
        "127.0.0.1:" + hypervisor.port(), "--name", "vm1", "--memory", "1MiB",
        "--workload", "hotset:footprint=2MiB,accesses=20000", "--batch", "128", "--window", "2",
        "--status-interval", "0s", "--swap-file", swapFile));
    return new Result(code, out.toString(), err.toString());
  }

  private static void assertOneLine(String err) {
    assertEquals(1, err.strip().lines().count(), "one line, no stack trace: " + err);
  }

  @Test
  void aSwapThatCannotBeReservedEndsTheGuestAtStartBeforeItsVmIsPoweredOn() throws IOException {
    Path notADirectory = Files.writeString(dir.resolve("plain"), "x");
    Result r = run(new GuestAgentCommand(), notADirectory.resolve("g.swap").toString());
    assertEquals(GuestAgentCommand.EXIT_SWAP_RESERVE, r.code(), r.err());
    assertOneLine(r.err());
    assertTrue(r.err().startsWith("guest-agent: vm1: cannot reserve 2.1MiB of guest swap (a 4.3KiB file) in "),
        r.err());
    assertTrue(r.err().contains("not a directory"), r.err());
    assertFalse(r.out().contains(GuestAgentCommand.READY), r.out());
    assertEquals(0, machine.snapshot().vmsReleased(), "no VM was ever powered on");
    assertTrue(machine.snapshot().vms().isEmpty());
  }

  @Test
  void aSwapWriteThatFailsEndsTheGuestWithOneLineAndPowersItsVmOff() {
    GuestAgentCommand command = new GuestAgentCommand();
    FailingStore store = new FailingStore(1 << 12);
    store.failWrites = true;
    command.swapOpener = (path, slots) -> new SwapDevice(path, store, slots);
    Result r = run(command, dir.resolve("g.swap").toString());
    assertEquals(GuestAgentCommand.EXIT_SWAP, r.code(), r.err());
    assertTrue(r.err().startsWith("guest-agent: vm1's swap failed, stopping and powering the VM off: swap write to "),
        r.err());
    assertOneLine(r.err());
    assertTrue(machine.snapshot().vms().isEmpty(), "the VM was powered off, not left held");
  }

  @Test
  void aSwapReadThatFailsEndsTheGuestWithOneLineAndPowersItsVmOff() {
    GuestAgentCommand command = new GuestAgentCommand();
    FailingStore store = new FailingStore(1 << 12);
    store.failReads = true;
    command.swapOpener = (path, slots) -> new SwapDevice(path, store, slots);
    Result r = run(command, dir.resolve("g.swap").toString());
    assertEquals(GuestAgentCommand.EXIT_SWAP, r.code(), r.err());
    assertTrue(r.err().contains("swap read from "), r.err());
    assertOneLine(r.err());
    assertTrue(machine.snapshot().vms().isEmpty(), "the VM was powered off, not left held");
  }
}
