package org.balloonlab.lab;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.TimeUnit;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.units.HostPort;

/** A short-lived connection to a hypervisor's management service, for one command. */
final class ManagementClient implements AutoCloseable {
  private final ManagedChannel channel;

  ManagementClient(HostPort hypervisor) {
    this.channel = NettyChannelBuilder.forTarget(hypervisor.target()).usePlaintext().build();
  }

  ManagementServiceGrpc.ManagementServiceBlockingStub stub() {
    return ManagementServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  /** A VM named by id (all digits) or by name. */
  static VmSelector select(String vm) {
    return vm.matches("\\d{1,9}") ? VmSelector.newBuilder().setVmId(Integer.parseInt(vm)).build()
        : VmSelector.newBuilder().setName(vm).build();
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
