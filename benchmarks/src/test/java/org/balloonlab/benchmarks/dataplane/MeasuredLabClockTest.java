package org.balloonlab.benchmarks.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.vcpu.LabClockLink;
import org.junit.jupiter.api.Test;

/** The harness's link counts what the vCPU took and passes everything on but the wake. */
class MeasuredLabClockTest {

  /** A link that hands out the grants it was given, in order, and records what comes back. */
  private static final class FakeLink implements LabClockLink {
    final ArrayDeque<Grant> grants = new ArrayDeque<>();
    final List<long[]> dones = new ArrayList<>();
    int wakes;

    @Override
    public Grant awaitGrant() {
      return grants.poll();
    }

    @Override
    public void done(long quantum, long vmTimeNs, boolean leaving, GuestStatus reportOrNull) {
      dones.add(new long[] {quantum, vmTimeNs, leaving ? 1 : 0});
    }

    @Override
    public void wake() {
      wakes++;
    }
  }

  @Test
  void countsTheQuantaTakenAndThoseTheVmWasAlreadyPast() {
    FakeLink fake = new FakeLink();
    MeasuredLabClock link = new MeasuredLabClock(fake);
    fake.grants.add(new LabClockLink.Grant(1, 0, 10, false));
    fake.grants.add(new LabClockLink.Grant(2, 10, 20, false));
    fake.grants.add(new LabClockLink.Grant(3, 20, 30, false));
    fake.grants.add(new LabClockLink.Grant(4, 30, 40, false));

    link.awaitGrant();
    link.done(1, 35, false, null);  // ran past quantum 1 to 35
    link.awaitGrant();               // 2 ends at 20: answered at once
    link.done(2, 35, false, null);
    link.awaitGrant();               // 3 ends at 30: answered at once
    link.done(3, 35, false, null);
    link.awaitGrant();               // 4 ends at 40: runs
    link.done(4, 40, true, null);

    assertEquals(new MeasuredLabClock.Counts(4, 2), link.counts());
    assertEquals(4, fake.dones.size());
    assertEquals(List.of(4L, 40L, 1L), List.of(fake.dones.get(3)[0], fake.dones.get(3)[1], fake.dones.get(3)[2]));
  }

  @Test
  void aWakeIsNotPassedOnSoTheVcpuLeavesInTheNextQuantum() {
    FakeLink fake = new FakeLink();
    MeasuredLabClock link = new MeasuredLabClock(fake);
    link.wake();
    assertEquals(0, fake.wakes);
    assertNull(link.awaitGrant());
    assertEquals(new MeasuredLabClock.Counts(0, 0), link.counts(), "no grant, nothing counted");
  }
}
