package org.balloonlab.it;

/**
 * Loads the machine: one thread spinning per core it is told to take, until it is killed. Started as a child
 * process by tests that check a lab's results do not depend on the load of the machine.
 */
public final class CpuHog {
  private CpuHog() {}

  /** @param args the number of threads (default: one per available processor) */
  public static void main(String[] args) {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(CpuHog::spin, "spin-" + i);
      t.start();
    }
    System.out.println("CPU_HOG_SPINNING " + threads);
    System.out.flush();
  }

  private static void spin() {
    long x = 0;
    while (!Thread.currentThread().isInterrupted()) {
      x = x * 6364136223846793005L + 1442695040888963407L;
      if (x == 42) {
        System.out.println(x); // never, in practice; keeps the loop from being optimised away
      }
    }
  }
}
