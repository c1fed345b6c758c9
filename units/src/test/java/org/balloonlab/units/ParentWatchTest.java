package org.balloonlab.units;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A child's watch on the pipe its launcher holds: nothing happens while it is open, one line and an exit at EOF. */
class ParentWatchTest {
  @Test
  void stopsOnceTheLauncherEndOfThePipeCloses() throws Exception {
    PipedOutputStream launcherEnd = new PipedOutputStream();
    PipedInputStream childEnd = new PipedInputStream(launcherEnd);
    StringWriter log = new StringWriter();
    CountDownLatch exited = new CountDownLatch(1);
    Thread watch = ParentWatch.exitWhenClosed(childEnd, new PrintWriter(log), "guest-agent: vm1", exited::countDown);
    assertTrue(watch.isDaemon(), "the watch never keeps the JVM alive by itself");

    launcherEnd.write(new byte[] {1, 2, 3}); // whatever is written is ignored
    launcherEnd.flush();
    assertFalse(exited.await(200, TimeUnit.MILLISECONDS), "no exit while the launcher lives");
    assertEquals("", log.toString());

    launcherEnd.close();
    assertTrue(exited.await(10, TimeUnit.SECONDS));
    assertEquals("guest-agent: vm1: the launcher that started it went away (standard input closed); stopping",
        log.toString().strip());
  }
}
