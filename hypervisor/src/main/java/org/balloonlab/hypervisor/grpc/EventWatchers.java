package org.balloonlab.hypervisor.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.balloonlab.hypervisor.event.EventLog;
import org.balloonlab.hypervisor.event.MachineEvent;
import org.balloonlab.proto.WatchEventsRequest;

/**
 * The streams of operators who follow the machine's events. Each watcher keeps a cursor into the machine's
 * {@link EventLog} and is sent what came after it, only while its stream is ready (flow control): a watcher
 * that reads slowly is not buffered for; it reads from the ring when it is ready again. If the ring overwrote
 * events it had not read, it is ended with RESOURCE_EXHAUSTED naming what it missed, instead of skipping them
 * silently or growing a queue without bound.
 *
 * <p>All sending happens on one thread of its own: the log pokes watchers under the machine's lock, where no
 * stream write may happen.
 */
final class EventWatchers implements AutoCloseable {
  /** Most events sent in one go before the stream's readiness is checked again. */
  static final int SEND_BATCH = 256;

  private final EventLog log;
  private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "event-watchers");
    t.setDaemon(true);
    return t;
  });

  EventWatchers(EventLog log) {
    this.log = log;
  }

  private final class Watcher {
    final ServerCallStreamObserver<org.balloonlab.proto.MachineEvent> stream;
    final boolean follow;
    final AtomicBoolean scheduled = new AtomicBoolean();
    volatile boolean done;
    volatile Runnable unsubscribe = () -> { };
    long cursor;
    /** Asked for every event still kept (after sequence 0): what the ring overwrote before it started is no loss. */
    boolean fromOldestKept;

    Watcher(ServerCallStreamObserver<org.balloonlab.proto.MachineEvent> stream, long cursor, boolean follow) {
      this.stream = stream;
      this.cursor = cursor;
      this.follow = follow;
      this.fromOldestKept = cursor == 0;
    }

    void schedule() {
      if (!done && scheduled.compareAndSet(false, true)) {
        try {
          sender.execute(this::drain);
        } catch (RejectedExecutionException stopping) {
          done = true;
        }
      }
    }

    /** Sends what the watcher has not seen, while its stream can take it. Runs on the sender thread only. */
    void drain() {
      scheduled.set(false);
      if (done) {
        return;
      }
      if (stream.isCancelled()) {
        finish();
        return;
      }
      while (stream.isReady()) {
        EventLog.Slice slice = log.after(cursor, SEND_BATCH);
        if (slice.missed() > 0 && fromOldestKept) {
          // The slice already starts at the oldest event kept, which is what sequence 0 asks for.
          cursor += slice.missed();
        } else if (slice.missed() > 0) {
          finish();
          stream.onError(Status.RESOURCE_EXHAUSTED.withDescription("this watcher fell behind: " + slice.missed()
              + " events after sequence " + cursor + " were overwritten before it read them (the log keeps the "
              + "newest " + log.capacity() + "); watch again after sequence " + (cursor + slice.missed())
              + " to go on from the oldest event still kept").asRuntimeException());
          return;
        }
        fromOldestKept = false;
        if (slice.events().isEmpty()) {
          if (!follow) {
            finish();
            stream.onCompleted();
          }
          return;
        }
        for (MachineEvent e : slice.events()) {
          stream.onNext(ProtoMapping.toProto(e));
          cursor = e.sequence();
        }
      }
    }

    void finish() {
      done = true;
      unsubscribe.run();
    }
  }

  /** Starts a watcher on a call's stream: replays what it asked for, then follows if it asked to. */
  void watch(WatchEventsRequest request, ServerCallStreamObserver<org.balloonlab.proto.MachineEvent> stream) {
    if (request.getAfterSequence() < 0) {
      stream.onError(StatusMapping.invalid("after_sequence cannot be negative, got " + request.getAfterSequence()));
      return;
    }
    Watcher w = new Watcher(stream, request.getAfterSequence(), request.getFollow());
    stream.setOnCancelHandler(w::finish);
    stream.setOnReadyHandler(w::schedule);
    if (request.getFollow()) {
      w.unsubscribe = log.subscribe(w::schedule);
    }
    w.schedule();
  }

  /** Stops sending; open streams end when the server shuts down. */
  @Override
  public void close() {
    sender.shutdownNow();
  }
}
