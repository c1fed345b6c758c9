package org.balloonlab.hypervisor.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntFunction;
import org.balloonlab.proto.BalloonTargetReply;

/**
 * The doorbell streams drivers listen to, by VM. The machine reports a change under its lock; the ring is sent
 * from a thread of its own, so no stream write ever happens while the machine is locked.
 */
final class BalloonDoorbells implements AutoCloseable {
  private final Map<Integer, List<ServerCallStreamObserver<BalloonTargetReply>>> listeners = new ConcurrentHashMap<>();
  private final ExecutorService ringer = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "balloon-doorbell");
    t.setDaemon(true);
    return t;
  });
  private final IntFunction<BalloonTargetReply> current;

  /** @param current answers a VM's current target reply, or {@code null} if the VM is gone */
  BalloonDoorbells(IntFunction<BalloonTargetReply> current) {
    this.current = current;
  }

  void listen(int vmId, ServerCallStreamObserver<BalloonTargetReply> stream) {
    listeners.computeIfAbsent(vmId, id -> new CopyOnWriteArrayList<>()).add(stream);
    stream.setOnCancelHandler(() -> remove(vmId, stream));
    ring(vmId);
  }

  /** Queues a ring for every driver of {@code vmId}. Safe to call under the machine's lock. */
  void ring(int vmId) {
    if (!listeners.containsKey(vmId)) {
      return;
    }
    ringer.execute(() -> deliver(vmId));
  }

  private void deliver(int vmId) {
    List<ServerCallStreamObserver<BalloonTargetReply>> streams = listeners.get(vmId);
    if (streams == null || streams.isEmpty()) {
      return;
    }
    BalloonTargetReply reply = current.apply(vmId);
    for (ServerCallStreamObserver<BalloonTargetReply> s : streams) {
      if (reply == null) {
        s.onCompleted();
        remove(vmId, s);
      } else if (!s.isCancelled()) {
        // A ring says "look now"; one pending message is enough, so a slow reader never makes us buffer more.
        if (s.isReady()) {
          s.onNext(reply);
        }
      }
    }
  }

  private void remove(int vmId, ServerCallStreamObserver<BalloonTargetReply> stream) {
    List<ServerCallStreamObserver<BalloonTargetReply>> streams = listeners.get(vmId);
    if (streams != null) {
      streams.remove(stream);
    }
  }

  @Override
  public void close() {
    ringer.shutdownNow();
  }
}
