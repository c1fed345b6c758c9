package org.balloonlab.guest.grpc;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;
import org.balloonlab.guest.os.GuestCosts;
import org.balloonlab.guest.os.PhysicalMemory;
import org.balloonlab.proto.CostModel;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.PowerOffRequest;
import org.balloonlab.proto.PowerOnRequest;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.TranslationMode;
import org.balloonlab.proto.VmSpec;
import org.balloonlab.proto.VmState;
import org.balloonlab.transport.Channels;
import org.balloonlab.transport.ClientSecurity;

/**
 * A guest's connection to its hypervisor: powers the VM on, opens its access stream and powers it off. The
 * channel is the caller's; this class only uses it.
 */
public final class MachineConnection {
  private final MachineServiceGrpc.MachineServiceBlockingStub blocking;
  private final MachineServiceGrpc.MachineServiceStub async;
  private PowerOnResponse vm;

  /**
   * A channel to the hypervisor at {@code target} as a guest uses it: plaintext without a token, with room for the answers to
   * batches of {@code batchSize} accesses (8 bytes a read), and answers checked on the network thread (the
   * check never blocks, so a thread hop per batch would only add latency).
   */
  public static ManagedChannel channel(String target, int batchSize) {
    return channel(target, batchSize, ClientSecurity.NONE);
  }

  /** The channel of {@link #channel(String, int)} with {@code security}'s token and TLS. */
  public static ManagedChannel channel(String target, int batchSize, ClientSecurity security) {
    int maxMessage = (int) Math.min(Integer.MAX_VALUE, 16L * batchSize + (1 << 20));
    return Channels.builder(target, security).maxInboundMessageSize(maxMessage).directExecutor().build();
  }

  public MachineConnection(ManagedChannel channel) {
    this.blocking = MachineServiceGrpc.newBlockingStub(channel);
    this.async = MachineServiceGrpc.newStub(channel);
  }

  /**
   * Powers the VM on.
   *
   * @throws StatusRuntimeException with the hypervisor's reason if it refuses (a name in use, a bad size)
   */
  public PowerOnResponse powerOn(String name, String osKind, long memoryPages) {
    return powerOn(name, osKind, memoryPages, 0, 0, TranslationMode.TRANSLATION_MODE_NESTED);
  }

  /** Powers the VM on with nested translation and the given reservation and shares. */
  public PowerOnResponse powerOn(String name, String osKind, long memoryPages, long minPages, long shares) {
    return powerOn(name, osKind, memoryPages, minPages, shares, TranslationMode.TRANSLATION_MODE_NESTED);
  }

  /**
   * Powers the VM on with reserved memory and shares for the hypervisor's reclamation policy, translated in
   * {@code mode}.
   *
   * @param minPages memory the hypervisor must reserve for the VM (0 for none)
   * @param shares the VM's shares (0 for the hypervisor's default)
   * @throws StatusRuntimeException with the hypervisor's reason if it refuses (a name in use, a bad size,
   *     RESOURCE_EXHAUSTED when the machine cannot reserve {@code minPages})
   */
  public PowerOnResponse powerOn(String name, String osKind, long memoryPages, long minPages, long shares,
                                 TranslationMode mode) {
    vm = blocking.withDeadlineAfter(10, TimeUnit.SECONDS).powerOn(PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName(name).setOsKind(osKind).setMemoryPages(memoryPages)
            .setMinPages(minPages).setShares(shares).setTranslationMode(mode))
        .build());
    return vm;
  }

  /** The costs the guest charges itself, from the machine's cost model. */
  public GuestCosts guestCosts() {
    CostModel c = vm.getCostModel();
    return new GuestCosts(c.getMemoryAccessNs(), c.getGuestPageFaultNs(), c.getGuestSwapReadNs(),
        c.getGuestSwapWriteNs());
  }

  /** Opens and attaches the VM's access stream. */
  public RemotePhysicalMemory openMemory(int batchSize, int window, PhysicalMemory.ReadChecker checker) {
    int batch = Math.min(batchSize, vm.getMaxBatchAccesses());
    return new RemotePhysicalMemory(async, vm.getVmId(), vm.getCredential(), batch, window, checker);
  }

  /** Powers the VM off; answers its final state as the hypervisor saw it. */
  public VmState powerOff() {
    return blocking.withDeadlineAfter(10, TimeUnit.SECONDS).powerOff(PowerOffRequest.newBuilder()
        .setVmId(vm.getVmId())
        .setCredential(vm.getCredential())
        .build()).getFinalState();
  }

  public int vmId() {
    return vm.getVmId();
  }
}
