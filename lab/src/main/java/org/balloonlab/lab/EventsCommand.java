package org.balloonlab.lab;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.Locale;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.WatchEventsRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code balloonlab events}: what happened on the machine, and with {@code --follow} what happens next. */
@Command(name = "events", mixinStandardHelpOptions = true,
    description = "Prints the machine's recent events (VMs powered on and off, driver modes, balloon targets, "
        + "balloon resets, free-memory states, the policy's decisions, page sharing's table and progress); --follow "
        + "keeps printing new ones until Ctrl-C.")
final class EventsCommand extends ControlCommand {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS", Locale.ROOT)
      .withZone(ZoneId.systemDefault());

  /** How long listing the kept events (at most the ring's 4096) may take without --follow. */
  private static final Duration LIST_DEADLINE = Duration.ofSeconds(30);

  @Option(names = {"-f", "--follow"}, description = "Keep printing events as they happen.")
  boolean follow;

  @Option(names = "--after", paramLabel = "SEQUENCE", defaultValue = "0",
      description = "Only events after this sequence number (default: every event still kept).")
  long after;

  @Override
  void call(ManagementClient client, PrintWriter out) {
    OptionCheck.require(spec, after >= 0, "--after cannot be negative");
    // Without --follow the stream ends once the kept events are sent: a deadline bounds it. Followed, it lasts as
    // long as the user likes, and the channel's keepalive notices a hypervisor that went silent.
    Iterator<MachineEvent> it = (follow ? client.streams() : client.stub(LIST_DEADLINE))
        .watchEvents(WatchEventsRequest.newBuilder().setAfterSequence(after).setFollow(follow).build());
    while (it.hasNext()) {
      out.println(format(it.next()));
      out.flush();
    }
  }

  static String format(MachineEvent e) {
    return String.format(Locale.ROOT, "%6d %s %-20s %-10s %s", e.getSequence(),
        TIME.format(Instant.ofEpochMilli(e.getWallTimeMs())),
        e.getKind().name().replaceFirst("^EVENT_KIND_", "").toLowerCase(Locale.ROOT),
        e.getVmName().isEmpty() ? "-" : e.getVmName(), e.getMessage());
  }
}
