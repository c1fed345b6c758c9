package org.balloonlab.benchmarks.balloon;

import io.grpc.Channel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import org.balloonlab.proto.GetVmRequest;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmState;

/**
 * The operator's side of a balloon run: {@code ManagementService} on a channel of its own, as an operator's
 * command uses it, to set a VM's balloon target and read the balloon as the hypervisor counts it.
 */
final class Operator {
  private final ManagementServiceGrpc.ManagementServiceBlockingStub management;

  Operator(Channel channel) {
    this.management = ManagementServiceGrpc.newBlockingStub(channel);
  }

  void setBalloonTarget(int vmId, long pages) {
    management.withDeadlineAfter(10, TimeUnit.SECONDS).setBalloonTarget(SetBalloonTargetRequest.newBuilder()
        .setVm(VmSelector.newBuilder().setVmId(vmId)).setTargetPages(pages).build());
  }

  VmState getVm(int vmId) {
    return management.withDeadlineAfter(10, TimeUnit.SECONDS).getVm(GetVmRequest.newBuilder().setVmId(vmId).build());
  }

  /**
   * For {@code --observer getvm}: reads GetVm every millisecond until the hypervisor's balloon size satisfies
   * {@code done}.
   *
   * @return the {@link System#nanoTime()} of the answer that did, or -1 after {@code timeout}
   */
  long awaitBalloonSize(int vmId, LongPredicate done, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long next = System.nanoTime();
    while (true) {
      long size = getVm(vmId).getBalloon().getSizePages();
      long now = System.nanoTime();
      if (done.test(size)) {
        return now;
      }
      if (now - deadline > 0) {
        return -1;
      }
      next += 1_000_000;
      long wait = next - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      } else {
        next = System.nanoTime();
      }
    }
  }

  /**
   * Whether the hypervisor's balloon holds {@code goal} pages, reading GetVm every millisecond for at most 2 s:
   * false (a disagreement the audit reports) rather than a wait without end.
   */
  boolean confirmBalloonSize(int vmId, long goal) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (true) {
      if (getVm(vmId).getBalloon().getSizePages() == goal) {
        return true;
      }
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      Thread.sleep(1);
    }
  }
}
