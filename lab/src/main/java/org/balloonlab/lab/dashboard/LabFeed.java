package org.balloonlab.lab.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.StatusRuntimeException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.balloonlab.domain.VmName;
import org.balloonlab.lab.ManagementClient;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.VmState;
import org.balloonlab.proto.WatchEventsRequest;

/**
 * What the dashboard shows, gathered from the hypervisor's management API: the latest state, a bounded history of
 * samples (memory per VM over lab time) and the latest events.
 *
 * <p>It looks at the lab every {@code period} of wall time and follows the event stream. Both are views for a
 * person: they neither hold nor move the lab clock, so the run's numbers do not depend on them. Each sample is
 * stamped with the lab time the hypervisor reports, so the charts' time axis is simulated time (wall time for a
 * hypervisor whose clock runs free). History and events are bounded rings: a long run keeps its latest
 * {@link #HISTORY} samples and {@link #EVENTS} events.
 */
public final class LabFeed implements AutoCloseable {
  /** How many samples are kept: at one sample per half second, the last 20 minutes of wall time. */
  static final int HISTORY = 2400;
  /** How many events are kept. */
  static final int EVENTS = 500;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ManagementClient client;
  private final long periodMs;
  private final Deque<ObjectNode> samples = new ArrayDeque<>();
  private final Deque<ObjectNode> events = new ArrayDeque<>();
  private long sampleSequence;
  private ObjectNode state;
  private String problem = "no answer from the hypervisor yet";
  private volatile boolean closed;
  private final Thread poller;
  private final Thread follower;

  /**
   * Starts following the hypervisor {@code client} talks to.
   *
   * @param periodMs wall milliseconds between two looks at the lab
   */
  public LabFeed(ManagementClient client, long periodMs) {
    this.client = client;
    this.periodMs = periodMs;
    this.poller = new Thread(this::poll, "dashboard-poll");
    this.follower = new Thread(this::follow, "dashboard-events");
    poller.setDaemon(true);
    follower.setDaemon(true);
    poller.start();
    follower.start();
  }

  private void poll() {
    long wallStart = System.nanoTime();
    while (!closed) {
      try {
        ListVmsResponse r = client.stub().listVms(ListVmsRequest.getDefaultInstance());
        // Lab time when the clock is the lab's; wall time since the dashboard started for a free-running one.
        long ns = r.getMachine().hasClock() && r.getMachine().getClock().getLockstep()
            ? r.getMachine().getClock().getLabTimeNs() : System.nanoTime() - wallStart;
        record(ns, r);
      } catch (StatusRuntimeException e) {
        synchronized (this) {
          problem = "the hypervisor does not answer: " + e.getStatus().getCode();
        }
      }
      pause(periodMs);
    }
  }

  private void follow() {
    long after = 0;
    while (!closed) {
      try {
        Iterator<MachineEvent> it = client.streams()
            .watchEvents(WatchEventsRequest.newBuilder().setAfterSequence(after).setFollow(true).build());
        while (it.hasNext() && !closed) {
          MachineEvent e = it.next();
          after = e.getSequence();
          addEvent(e);
        }
      } catch (StatusRuntimeException e) {
        // The stream broke (the hypervisor restarted or went away): look again a little later.
        pause(1000);
      }
    }
  }

  /** Waits {@code ms} of wall time between two looks (a viewer's pace, never part of the lab's results). */
  private void pause(long ms) {
    try {
      TimeUnit.MILLISECONDS.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
  }

  /** Keeps {@code r}, seen at lab time {@code ns}, as the latest state and as a sample of the history. */
  synchronized void record(long ns, ListVmsResponse r) {
    List<VmState> vms = new ArrayList<>(r.getVmsList());
    vms.sort((a, b) -> VmName.NATURAL_ORDER.compare(a.getName(), b.getName()));
    ObjectNode s = JSON.createObjectNode();
    s.put("labTimeNs", ns);
    s.set("machine", machine(r.getMachine()));
    ArrayNode list = s.putArray("vms");
    vms.forEach(v -> list.add(vm(v)));
    state = s;
    problem = null;
    ObjectNode sample = JSON.createObjectNode();
    sample.put("seq", ++sampleSequence);
    sample.put("t", ns / 1e9);
    sample.put("machineFrames", r.getMachine().getMachineFrames());
    ObjectNode byVm = sample.putObject("vms");
    for (VmState v : vms) {
      ArrayNode a = byVm.putArray(v.getName());
      a.add(v.getMappedPages()).add(v.getBalloon().getSizePages()).add(v.getHostSwappedPages())
          .add(v.getMemoryPages()).add(v.getBalloon().getTargetPages());
    }
    samples.addLast(sample);
    if (samples.size() > HISTORY) {
      samples.removeFirst();
    }
  }

  synchronized void addEvent(MachineEvent e) {
    ObjectNode n = JSON.createObjectNode();
    n.put("seq", e.getSequence());
    n.put("labTimeNs", e.getLabTimeNs());
    n.put("kind", e.getKind().name().replaceFirst("^EVENT_KIND_", "").toLowerCase(Locale.ROOT));
    n.put("vm", e.getVmName());
    n.put("message", e.getMessage());
    events.addLast(n);
    if (events.size() > EVENTS) {
      events.removeFirst();
    }
  }

  private static ObjectNode machine(MachineState m) {
    ObjectNode n = JSON.createObjectNode();
    n.put("machineFrames", m.getMachineFrames());
    n.put("freeFrames", m.getFreeFrames());
    n.put("freeState", m.getFreeState());
    n.put("configuredPages", m.getConfiguredPages());
    n.put("poweredOnVms", m.getPoweredOnVms());
    n.put("hostSwapUsed", m.getHostSwapUsed());
    n.put("hostPageOuts", m.getHostPageOuts());
    n.put("doublePaging", m.getDoublePaging());
    n.put("policy", m.getPolicy());
    if (m.hasClock()) {
      n.put("lockstep", m.getClock().getLockstep());
      n.put("reproducible", m.getClock().getReproducible());
    }
    return n;
  }

  private static ObjectNode vm(VmState v) {
    ObjectNode n = JSON.createObjectNode();
    n.put("name", v.getName());
    n.put("id", v.getVmId());
    n.put("memoryPages", v.getMemoryPages());
    n.put("mappedPages", v.getMappedPages());
    n.put("balloonPages", v.getBalloon().getSizePages());
    n.put("targetPages", v.getBalloon().getTargetPages());
    n.put("hostSwappedPages", v.getHostSwappedPages());
    n.put("driverConnected", v.getBalloon().getDriverConnected());
    n.put("driverMode", v.getBalloon().getRequestedMode());
    n.put("uncooperative", v.getBalloon().getUncooperative());
    n.put("guestFaults", v.getGuest().getTrueFaults());
    n.put("hiddenFaults", v.getCounters().getHiddenFaults());
    if (v.hasGuestStats()) {
      // What the guest's balloon driver last reported of its memory (ReportStats), kept by the hypervisor.
      n.put("guestFreePages", v.getGuestStats().getStats().getFreePages());
      n.put("guestAvailablePages", v.getGuestStats().getStats().getAvailablePages());
      n.put("guestSwapOut", v.getGuestStats().getStats().getSwapOut());
      n.put("guestMajorFaults", v.getGuestStats().getStats().getMajorFaults());
    }
    n.put("sharedPages", v.getSharing().getSharedPages());
    n.put("savedPages", v.getSharing().getSavedPages());
    n.put("cowBreaks", v.getSharing().getCowBreaks());
    return n;
  }

  /** The latest state: {@code {labTimeNs, machine, vms}}, or {@code {problem}} before the first answer. */
  public synchronized String stateJson() {
    ObjectNode n = state != null ? state.deepCopy() : JSON.createObjectNode();
    if (problem != null) {
      n.put("problem", problem);
    }
    return n.toString();
  }

  /** The samples after sequence {@code after}: {@code {samples: [{seq, t, machineFrames, vms: {name: [mapped, balloon, swapped,
   * memory, target]}}]}}, in pages. */
  public synchronized String historyJson(long after) {
    ObjectNode n = JSON.createObjectNode();
    ArrayNode a = n.putArray("samples");
    samples.stream().filter(s -> s.get("seq").asLong() > after).forEach(a::add);
    return n.toString();
  }

  /** The events after sequence {@code after}: {@code {events: [{seq, labTimeNs, kind, vm, message}]}}. */
  public synchronized String eventsJson(long after) {
    ObjectNode n = JSON.createObjectNode();
    ArrayNode a = n.putArray("events");
    events.stream().filter(e -> e.get("seq").asLong() > after).forEach(a::add);
    return n.toString();
  }

  @Override
  public void close() {
    closed = true;
    poller.interrupt();
    follower.interrupt();
  }
}
