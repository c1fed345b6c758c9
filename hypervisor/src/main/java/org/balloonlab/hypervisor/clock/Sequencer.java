package org.balloonlab.hypervisor.clock;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lab clock's one thread: it processes each boundary (joins, commands, the machine's boundary work, a
 * holder's stop, pacing, grants) and then applies the members' operations round-robin until every member has
 * ended the quantum ({@code docs/lab-clock.md}). It works on {@link LabClock}'s state under its lock, and runs
 * operations, commands and callbacks without it.
 */
final class Sequencer {
  private static final Logger log = LoggerFactory.getLogger(LabClock.class);

  private final LabClock c;

  Sequencer(LabClock clock) {
    this.c = clock;
  }

  void run() {
    try {
      while (boundary()) {
        runQuantum();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      log.error("the lab clock stopped", e);
      throw e;
    }
  }

  /** Processes the boundary at {@link #c.labTimeNs} and grants the next c.quantum; false once c.closed. */
  private boolean boundary() throws InterruptedException {
    c.lock.lock();
    try {
      admitJoinsLocked();
    } finally {
      c.lock.unlock();
    }
    runCommands();
    c.boundaryWork.atBoundary(c.labTimeNs);
    while (true) {
      ClockHolder tell = null;
      c.lock.lock();
      try {
        if (c.closed) {
          return false;
        }
        admitJoinsLocked();
        boolean heldHere = c.holder != null && c.holdUntil <= c.labTimeNs;
        boolean canGo = !c.members.isEmpty() || c.holder != null && c.holdUntil > c.labTimeNs;
        if (heldHere) {
          c.heldAt = c.labTimeNs;
          if (!c.holdAnswered) {
            tell = c.holder;
            c.holdAnswered = true;
          }
        } else {
          c.heldAt = -1;
        }
        if (tell == null && c.commands.isEmpty()) {
          if (canGo && !heldHere) {
            break;
          }
          c.changed.await();
          continue;
        }
      } finally {
        c.lock.unlock();
      }
      if (tell != null) {
        tell.heldAt(c.labTimeNs);
      }
      runCommands();
    }
    pace();
    List<ClockSlot> granted;
    long start;
    long end;
    long number;
    c.lock.lock();
    try {
      if (c.wallStart == Long.MIN_VALUE) {
        c.wallStart = c.wallNanos.getAsLong();
      }
      number = ++c.quantum;
      start = c.labTimeNs;
      end = start + c.settings.quantumNs();
      c.running = true;
      granted = new ArrayList<>(c.members.values());
    } finally {
      c.lock.unlock();
    }
    for (ClockSlot s : granted) {
      boolean doorbell;
      c.lock.lock();
      try {
        if (s.vmTimeNs >= end) {
          // Its hidden faults put it past this quantum's end already: it would only answer at once, so it sits
          // this one out (deterministically: its time came with its last quantum's end, in its turn). A doorbell
          // waits for the grant it runs in.
          continue;
        }
        s.done = false;
        doorbell = s.doorbell;
        s.doorbell = false;
      } finally {
        c.lock.unlock();
      }
      s.member.grant(number, start, end, doorbell);
    }
    return true;
  }

  private void admitJoinsLocked() {
    if (!c.joining.isEmpty()) {
      for (Map.Entry<Integer, ClockSlot> e : c.joining.entrySet()) {
        c.members.put(e.getKey(), e.getValue());
      }
      c.joining.clear();
    }
  }

  private void runCommands() {
    while (true) {
      Runnable command;
      c.lock.lock();
      try {
        command = c.commands.poll();
      } finally {
        c.lock.unlock();
      }
      if (command == null) {
        return;
      }
      runSafely(command);
    }
  }

  private void pace() throws InterruptedException {
    double pace = c.settings.pace();
    if (pace <= 0) {
      return;
    }
    c.lock.lock();
    try {
      if (c.wallStart == Long.MIN_VALUE) {
        c.wallStart = c.wallNanos.getAsLong();
      }
      long due = c.wallStart + (long) (c.labTimeNs / pace);
      long wait;
      while (!c.closed && (wait = due - c.wallNanos.getAsLong()) > 0) {
        c.changed.awaitNanos(wait);
      }
    } finally {
      c.lock.unlock();
    }
  }

  /** Applies the c.members' operations round-robin until every member has ended the c.quantum. */
  private void runQuantum() throws InterruptedException {
    int lastServed = Integer.MIN_VALUE;
    long number;
    c.lock.lock();
    try {
      number = c.quantum;
    } finally {
      c.lock.unlock();
    }
    while (true) {
      ClockSlot turn;
      ClockSlot.Op op;
      c.lock.lock();
      try {
        turn = nextTurnLocked(lastServed);
        if (turn == null || c.closed) {
          break;
        }
        long waitedSince = c.wallNanos.getAsLong();
        while (turn.ops.isEmpty() && !turn.done && !c.closed) {
          long left = c.settings.graceNanos() - (c.wallNanos.getAsLong() - waitedSince);
          if (left <= 0) {
            break;
          }
          c.changed.awaitNanos(left);
        }
        if (c.closed) {
          break;
        }
        if (turn.done) {
          // It left while we waited for it.
          lastServed = turn.vmId;
          continue;
        }
        op = turn.ops.poll();
        if (op == null) {
          dropLocked(turn, turn.member + " sent nothing for " + c.settings.graceNanos() / 1_000_000_000.0
              + " s of wall time at lab time " + c.labTimeNs + " ns: dropped from the lab clock");
          lastServed = turn.vmId;
          continue;
        }
        if (op.ends()) {
          // A guest stopped while it waited for its next grant names the last quantum it ran; the grant it had
          // not read yet ends with its leaving.
          boolean stale = op.leaving() && op.quantum() < number;
          if (op.quantum() != number && !stale) {
            dropLocked(turn, turn.member + " ended quantum " + op.quantum() + " during quantum " + number
                + ": dropped from the lab clock");
            c.commands.add(op.work());
            lastServed = turn.vmId;
            continue;
          }
          turn.done = true;
          if (op.leaving()) {
            c.removeLocked(turn, true);
          }
        }
      } finally {
        c.lock.unlock();
      }
      runSafely(op.work());
      lastServed = turn.vmId;
    }
    c.lock.lock();
    try {
      c.labTimeNs += c.settings.quantumNs();
      c.boundaries++;
      c.running = false;
    } finally {
      c.lock.unlock();
    }
  }

  /** The next member after {@code lastServed} in id order that has not ended the c.quantum, wrapping round. */
  private ClockSlot nextTurnLocked(int lastServed) {
    Map.Entry<Integer, ClockSlot> e = c.members.higherEntry(lastServed);
    while (e != null) {
      if (!e.getValue().done) {
        return e.getValue();
      }
      e = c.members.higherEntry(e.getKey());
    }
    for (ClockSlot s : c.members.values()) {
      if (!s.done) {
        return s;
      }
    }
    return null;
  }

  private void dropLocked(ClockSlot s, String why) {
    c.notReproducibleLocked(why);
    log.warn(why);
    ClockMember m = s.member;
    c.commands.addFirst(() -> m.drop(why + "; the run is not reproducible"));
    c.removeLocked(s, false);
  }

  /** Runs the operations a VM that left had queued, in order, until none is left; then it is off the clock. */
  void drain(ClockSlot s) {
    while (true) {
      ClockSlot.Op op;
      c.lock.lock();
      try {
        op = s.ops.poll();
        if (op == null) {
          c.draining.remove(s.vmId);
          return;
        }
      } finally {
        c.lock.unlock();
      }
      runSafely(op.work());
    }
  }

  private static void runSafely(Runnable work) {
    try {
      work.run();
    } catch (RuntimeException e) {
      // One VM's failed operation must not stop the clock for the others; its edge reports it to the VM.
      log.error("an operation on the lab clock failed", e);
    }
  }
}
