package org.balloonlab.guest.grpc;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
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
import org.balloonlab.units.Keepalive;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.balloonlab.transport.Channels;
import org.balloonlab.transport.ClientSecurity;

/**
 * A guest's connection to its hypervisor: powers the VM on, opens its access stream and powers it off. The
 * channel is the caller's; this class only uses it.
 */
public final class MachineConnection {
  private static final Logger log = LoggerFactory.getLogger(MachineConnection.class);
  /** How long one power-on attempt may take; a lab clock holds power-ons to its next boundary. */
  private static final long POWER_ON_DEADLINE_SECONDS = 10;
  /** Power-on attempts after the first when no answer came. */
  static final int POWER_ON_RETRIES = 2;
  private static final long FIRST_PAUSE_MILLIS = 500;
  private final MachineServiceGrpc.MachineServiceBlockingStub blocking;
  private final MachineServiceGrpc.MachineServiceStub async;
  private PowerOnResponse vm;

  /**
   * A channel to the hypervisor at {@code target} as a guest uses it: plaintext without a token, with room for the answers to
   * batches of {@code batchSize} accesses (8 bytes a read), and answers checked on the network thread (the
   * check never blocks, so a thread hop per batch would only add latency), with the default keepalive.
   */
  public static ManagedChannel channel(String target, int batchSize) {
    return channel(target, batchSize, ClientSecurity.NONE);
  }

  /** The channel of {@link #channel(String, int)} with {@code security}'s token and TLS. */
  public static ManagedChannel channel(String target, int batchSize, ClientSecurity security) {
    return channel(target, batchSize, security, Keepalive.DEFAULT);
  }

  /**
   * The channel of {@link #channel(String, int)} with {@code security}'s token and TLS, and {@code keepalive}: a
   * hypervisor cut off by a silent partition fails every call and stream on the channel with {@code UNAVAILABLE}
   * within {@link Keepalive#detection()}, so no wait on it lasts longer.
   */
  public static ManagedChannel channel(String target, int batchSize, ClientSecurity security, Keepalive keepalive) {
    int maxMessage = (int) Math.min(Integer.MAX_VALUE, 16L * batchSize + (1 << 20));
    return keepalive.applyTo(Channels.builder(target, security).maxInboundMessageSize(maxMessage).directExecutor())
        .build();
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
   * <p>A power-on that gets no answer (DEADLINE_EXCEEDED, UNAVAILABLE) is sent again up to
   * {@value #POWER_ON_RETRIES} times with the same request id, so a slow answer does not leave an orphan VM: the
   * hypervisor answers the retry with the VM the first attempt powered on.
   *
   * @throws StatusRuntimeException with the hypervisor's reason if it refuses (a name in use, a bad size,
   *     RESOURCE_EXHAUSTED when the machine cannot reserve {@code minPages}), or the last failure
   */
  public PowerOnResponse powerOn(String name, String osKind, long memoryPages, long minPages, long shares,
                                 TranslationMode mode) {
    // One id for every attempt: the hypervisor answers a retry with the VM the first attempt powered on.
    PowerOnRequest request = PowerOnRequest.newBuilder()
        .setSpec(VmSpec.newBuilder().setName(name).setOsKind(osKind).setMemoryPages(memoryPages)
            .setMinPages(minPages).setShares(shares).setTranslationMode(mode))
        .setRequestId(UUID.randomUUID().toString())
        .build();
    long pauseMillis = FIRST_PAUSE_MILLIS;
    for (int attempt = 0; ; attempt++) {
      try {
        vm = blocking.withDeadlineAfter(POWER_ON_DEADLINE_SECONDS, TimeUnit.SECONDS).powerOn(request);
        return vm;
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        boolean unanswered = code == Status.Code.DEADLINE_EXCEEDED || code == Status.Code.UNAVAILABLE;
        if (!unanswered || attempt == POWER_ON_RETRIES) {
          throw e;
        }
        if (attempt == 0) {
          log.warn("no answer to the power-on of {} ({}); retrying the same request, which the hypervisor "
              + "applies at most once", name, code);
        }
        // Wall time: a pause for the network between attempts, before the VM exists.
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(pauseMillis));
        pauseMillis *= 2;
      }
    }
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
