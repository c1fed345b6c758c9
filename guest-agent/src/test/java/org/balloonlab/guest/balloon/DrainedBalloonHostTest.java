package org.balloonlab.guest.balloon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.balloonlab.balloon.driver.BalloonHost;
import org.balloonlab.balloon.driver.BalloonHostException;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.os.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * A balloon call on the lab clock drains the access pipeline first; when the pipeline has failed (the hypervisor
 * went away), the driver must see a host it cannot reach, which it counts and logs in one line, not an exception its
 * round logs with a stack trace.
 */
class DrainedBalloonHostTest {

  @Test
  void aFailedPipelineIsAnUnreachableHostAndTheCallIsNotMade() {
    List<String> calls = new ArrayList<>();
    BalloonHost host = (BalloonHost) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {BalloonHost.class}, (proxy, method, args) -> {
          calls.add(method.getName());
          return null;
        });
    DrainedBalloonHost drained = new DrainedBalloonHost(host, new FailedMemory());

    BalloonHostException e = assertThrows(BalloonHostException.class, () -> drained.getTarget(1, 0));
    assertEquals(BalloonHostException.Kind.UNAVAILABLE, e.kind());
    assertThrows(BalloonHostException.class, () -> drained.lock(1, 1, new int[1], 1, new BalloonHost.PageStatus[1]));
    assertThrows(BalloonHostException.class, drained::start);
    assertEquals(List.of(), calls, "nothing goes out of order with the batches");
  }

  /** A pipeline whose stream failed: every wait on it throws what the gRPC stream threw. */
  private static final class FailedMemory implements PhysicalMemory {
    @Override
    public void write(int pfn, long token) {}

    @Override
    public void read(int pfn, long expected) {}

    @Override
    public void readForSwapOut(int[] pfns, long[] expected, int count, long[] values) {
      flush();
    }

    @Override
    public void flush() {
      throw Status.UNAVAILABLE.withDescription("the access stream failed: Keepalive failed").asRuntimeException();
    }

    @Override
    public void report(GuestStatus status) {}

    @Override
    public long hypervisorNs() {
      return 0;
    }

    @Override
    public void close() {}
  }
}
