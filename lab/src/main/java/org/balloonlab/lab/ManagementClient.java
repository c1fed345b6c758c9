package org.balloonlab.lab;

import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.transport.Channels;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.Keepalive;

/**
 * A connection to a hypervisor's management service, for one command or one run of a lab. Unary calls have a
 * deadline; the streams that last as long as they are followed (events, the clock hold) have none, and are bounded
 * by the channel's keepalive instead: a hypervisor cut off by a silent partition fails them with
 * {@code UNAVAILABLE} within {@link Keepalive#detection()} (15 s of wall time).
 */
public final class ManagementClient implements AutoCloseable {
  /** How long an operator's command waits for its answer. */
  private static final Duration COMMAND_DEADLINE = Duration.ofSeconds(5);

  private final ManagedChannel channel;

  /** A connection with {@code security}'s token and TLS. */
  public ManagementClient(HostPort hypervisor, ClientSecurity security) {
    this.channel = Keepalive.DEFAULT.applyTo(Channels.builder(hypervisor.target(), security)).build();
  }

  /** A stub for one operator's call, answered within five seconds. */
  public ManagementServiceGrpc.ManagementServiceBlockingStub stub() {
    return stub(COMMAND_DEADLINE);
  }

  /** A stub whose calls must be answered within {@code deadline} from now. */
  public ManagementServiceGrpc.ManagementServiceBlockingStub stub(Duration deadline) {
    return ManagementServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** A stub without a deadline, for the event stream, which lasts as long as it is followed (keepalive-bounded). */
  public ManagementServiceGrpc.ManagementServiceBlockingStub streams() {
    return ManagementServiceGrpc.newBlockingStub(channel);
  }

  /**
   * An asynchronous stub without a deadline, for the clock hold, which lasts as long as the run (keepalive-bounded).
   */
  ManagementServiceGrpc.ManagementServiceStub async() {
    return ManagementServiceGrpc.newStub(channel);
  }

  /** A VM named by id (all digits) or by name. */
  public static VmSelector select(String vm) {
    return vm.matches("\\d{1,9}") ? VmSelector.newBuilder().setVmId(Integer.parseInt(vm)).build()
        : VmSelector.newBuilder().setName(vm).build();
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
