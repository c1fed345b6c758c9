package org.balloonlab.lab;

import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.units.HostPort;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code balloonlab status}: the machine and its VMs, as a table or as JSON. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Prints a running hypervisor's machine state and every VM's counters.")
final class StatusCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--hypervisor", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7400",
      description = "The hypervisor to ask (default: ${DEFAULT-VALUE}).")
  HostPort hypervisor;

  @Option(names = "--json", description = "Print the state as JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forTarget(hypervisor.target()).usePlaintext().build();
    try {
      ListVmsResponse state = ManagementServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .listVms(ListVmsRequest.getDefaultInstance());
      if (json) {
        spec.commandLine().getOut().println(JsonFormat.printer().print(state));
      } else {
        spec.commandLine().getOut().println(VmTable.header());
        spec.commandLine().getOut().println(VmTable.render("now", state));
      }
      return 0;
    } catch (StatusRuntimeException e) {
      spec.commandLine().getErr().println("status: cannot reach the hypervisor at " + hypervisor + ": "
          + e.getStatus().getCode() + " " + e.getStatus().getDescription());
      return 5;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
