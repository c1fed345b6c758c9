package org.balloonlab.hypervisor.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.IntFunction;
import org.balloonlab.proto.BalloonTargetReply;

/**
 * The doorbell streams drivers listen to, by VM. The machine reports a change under its lock; rings are written
 * from a thread of their own, so no stream write ever happens while the machine is locked.
 *
 * <p>A ring says "look now" and carries the current state, so rings coalesce: a stream that is not ready to
 * send keeps one pending ring, delivered with the freshest state as soon as it is ready. Nothing is lost and
 * nothing piles up.
 */
final class BalloonDoorbells implements AutoCloseable {
  private static final class Listener {
    final ServerCallStreamObserver<BalloonTargetReply> stream;
    final AtomicBoolean pending = new AtomicBoolean();

    Listener(ServerCallStreamObserver<BalloonTargetReply> stream) {
      this.stream = stream;
    }
  }

  private final Map<Integer, List<Listener>> listeners = new ConcurrentHashMap<>();
  private final ExecutorService ringer = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "balloon-doorbell");
    t.setDaemon(true);
    return t;
  });
  private final IntFunction<BalloonTargetReply> current;
  private final BiConsumer<Integer, Long> hungUp;

  /**
   * @param current answers a VM's current target reply, or {@code null} if the VM is gone
   * @param hungUp told (VM id, session) when a driver cancels its doorbell: the driver closed that session
   */
  BalloonDoorbells(IntFunction<BalloonTargetReply> current, BiConsumer<Integer, Long> hungUp) {
    this.current = current;
    this.hungUp = hungUp;
  }

  void listen(int vmId, long session, ServerCallStreamObserver<BalloonTargetReply> stream) {
    Listener listener = new Listener(stream);
    stream.setOnCancelHandler(() -> {
      remove(vmId, listener);
      hungUp.accept(vmId, session);
    });
    stream.setOnReadyHandler(() -> {
      if (listener.pending.get()) {
        submit(() -> deliver(vmId, listener));
      }
    });
    listeners.computeIfAbsent(vmId, id -> new CopyOnWriteArrayList<>()).add(listener);
    ring(vmId);
  }

  /** Queues a ring for every driver of {@code vmId}. Safe to call under the machine's lock, and after close. */
  void ring(int vmId) {
    List<Listener> list = listeners.get(vmId);
    if (list == null || list.isEmpty()) {
      return;
    }
    for (Listener l : list) {
      l.pending.set(true);
    }
    submit(() -> {
      for (Listener l : list) {
        deliver(vmId, l);
      }
    });
  }

  private void submit(Runnable task) {
    try {
      ringer.execute(task);
    } catch (RejectedExecutionException closed) {
      // The server is stopping; drivers will find out when their calls fail.
    }
  }

  private void deliver(int vmId, Listener l) {
    if (l.stream.isCancelled()) {
      remove(vmId, l);
      return;
    }
    if (!l.pending.get() || !l.stream.isReady()) {
      return; // delivered already, or sent from the ready handler once the stream can take it
    }
    l.pending.set(false);
    BalloonTargetReply reply = current.apply(vmId);
    if (reply == null) {
      l.stream.onCompleted();
      remove(vmId, l);
    } else {
      l.stream.onNext(reply);
    }
  }

  private void remove(int vmId, Listener listener) {
    listeners.computeIfPresent(vmId, (id, list) -> {
      list.remove(listener);
      return list.isEmpty() ? null : list;
    });
  }

  /** Ends every doorbell stream and stops ringing. */
  @Override
  public void close() {
    submit(() -> {
      for (List<Listener> list : listeners.values()) {
        for (Listener l : list) {
          if (!l.stream.isCancelled()) {
            l.stream.onCompleted();
          }
        }
      }
      listeners.clear();
    });
    ringer.shutdown();
  }
}
