package org.balloonlab.lab;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.WatchEventsRequest;
import org.balloonlab.units.HostPort;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code balloonlab events}: what happened on the machine, and with {@code --follow} what happens next. */
@Command(name = "events", mixinStandardHelpOptions = true,
    description = "Prints the machine's recent events (VMs powered on and off, driver modes, balloon targets, "
        + "balloon resets, free-memory states); --follow keeps printing new ones until Ctrl-C.")
final class EventsCommand implements Callable<Integer> {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS", Locale.ROOT)
      .withZone(ZoneId.systemDefault());

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--hypervisor", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7400",
      description = "The hypervisor (default: ${DEFAULT-VALUE}).")
  HostPort hypervisor;

  @Option(names = {"-f", "--follow"}, description = "Keep printing events as they happen.")
  boolean follow;

  @Option(names = "--after", paramLabel = "SEQUENCE", defaultValue = "0",
      description = "Only events after this sequence number (default: every event still kept).")
  long after;

  @Override
  public Integer call() throws Exception {
    if (after < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--after cannot be negative");
    }
    PrintWriter out = spec.commandLine().getOut();
    ManagedChannel channel = NettyChannelBuilder.forTarget(hypervisor.target()).usePlaintext().build();
    try {
      Iterator<MachineEvent> it = ManagementServiceGrpc.newBlockingStub(channel)
          .watchEvents(WatchEventsRequest.newBuilder().setAfterSequence(after).setFollow(follow).build());
      while (it.hasNext()) {
        out.println(format(it.next()));
        out.flush();
      }
      return 0;
    } catch (StatusRuntimeException e) {
      spec.commandLine().getErr().println("events: " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
      return 5;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  static String format(MachineEvent e) {
    return String.format(Locale.ROOT, "%6d %s %-20s %-10s %s", e.getSequence(),
        TIME.format(Instant.ofEpochMilli(e.getWallTimeMs())),
        e.getKind().name().replaceFirst("^EVENT_KIND_", "").toLowerCase(Locale.ROOT),
        e.getVmName().isEmpty() ? "-" : e.getVmName(), e.getMessage());
  }
}
