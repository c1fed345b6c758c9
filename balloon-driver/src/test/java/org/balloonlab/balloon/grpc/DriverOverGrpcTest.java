package org.balloonlab.balloon.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionFactory;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.balloon.driver.BalloonDriver.Config;
import org.balloonlab.balloon.driver.BalloonHostException.Kind;
import org.balloonlab.balloon.driver.FakeHost;
import org.balloonlab.balloon.driver.FakeHost.Call;
import org.balloonlab.balloon.driver.FakeKernel;
import org.balloonlab.domain.DriverMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The driver's main scenarios again, this time over in-process gRPC through {@link GrpcBalloonHost}. */
class DriverOverGrpcTest {
  static final int PAGES = 4096;

  FakeKernel kernel;
  FakeHost fake;
  Server server;
  ManagedChannel channel;
  BalloonDriver driver;

  @BeforeEach
  void setUp() throws IOException {
    kernel = new FakeKernel(PAGES);
    fake = new FakeHost(PAGES);
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name)
        .addService(new FakeHostService(fake, 3, "vm3-secret"))
        .build()
        .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    if (driver != null) {
      driver.stop();
    }
    channel.shutdownNow();
    server.shutdownNow();
    assertTrue(channel.awaitTermination(5, TimeUnit.SECONDS));
    assertTrue(server.awaitTermination(5, TimeUnit.SECONDS));
    assertEquals(List.of(), kernel.violations());
  }

  void start(String credential, Duration poll) {
    driver = new BalloonDriver(kernel, new GrpcBalloonHost(channel, 3, credential),
        Config.defaults("vm3").withPollInterval(poll));
    driver.start();
  }

  static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5));
  }

  void assertConsistent() {
    assertEquals(driver.size(), fake.lockedCount());
    assertEquals(driver.size(), kernel.pinnedCount());
  }

  @Test
  void inflatesAndDeflatesOverGrpc() {
    fake.setTarget(2000);
    start("vm3-secret", Duration.ofMillis(5));

    eventually().until(() -> driver.size() == 2000);
    fake.setTarget(700);
    eventually().until(() -> driver.size() == 700);
    eventually().untilAsserted(this::assertConsistent);
    assertNotNull(fake.lastStats());
  }

  @Test
  void theDoorbellWakesTheDriverOverGrpc() {
    start("vm3-secret", Duration.ofHours(1));
    eventually().until(() -> fake.calls(Call.STATS) >= 1 && fake.openDoorbells() == 1);

    fake.setTarget(1500);

    eventually().until(() -> driver.size() == 1500);
    eventually().untilAsserted(this::assertConsistent);
  }

  @Test
  void resetAndStaleSessionOverGrpc() {
    fake.setTarget(1000);
    start("vm3-secret", Duration.ofMillis(5));
    eventually().until(() -> driver.size() == 1000);

    fake.forceReset();
    eventually().until(() -> driver.stats().resets() == 1 && driver.size() == 1000);
    fake.invalidateSession();
    eventually().until(() -> driver.stats().sessionsStarted() == 3);
    fake.setTarget(400);

    eventually().until(() -> driver.size() == 400);
    eventually().untilAsserted(this::assertConsistent);
    assertEquals(1, driver.stats().resets());
  }

  @Test
  void aRequestedModeTravelsOverGrpc() {
    fake.setTarget(500);
    start("vm3-secret", Duration.ofMillis(5));
    eventually().until(() -> driver.size() == 500);

    fake.update(100, DriverMode.of(DriverMode.Kind.DISABLED));

    eventually().until(() -> driver.stats().mode().kind() == DriverMode.Kind.DISABLED && driver.size() == 100);
  }

  @Test
  void aRefusedCredentialIsCountedAndRetried() {
    fake.setTarget(100);
    start("wrong", Duration.ofMillis(5));

    eventually().until(() -> driver.stats().hostErrors() >= 3);
    assertEquals(0, fake.calls(Call.START));
    assertEquals(0, driver.size());
  }

  @Test
  void hostErrorsOverGrpcAreRetried() {
    fake.failNext(Call.LOCK, 2, Kind.UNAVAILABLE);
    fake.setTarget(300);
    start("vm3-secret", Duration.ofMillis(5));

    eventually().until(() -> driver.size() == 300);
    // Unanswered locks are sent again at once, same request: the round does not fail.
    assertEquals(2, driver.stats().retries());
    assertEquals(0, driver.stats().hostErrors());
    eventually().untilAsserted(this::assertConsistent);
  }
}
