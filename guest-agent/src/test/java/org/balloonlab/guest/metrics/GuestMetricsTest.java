package org.balloonlab.guest.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.balloonlab.balloon.driver.DriverStats;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.transport.metrics.MetricsEndpoint;
import org.junit.jupiter.api.Test;

/** A guest agent's metrics, served on a loopback port and scraped over HTTP as Prometheus would. */
class GuestMetricsTest {
  private static String scrape(MetricsEndpoint endpoint) throws Exception {
    // Wall-clock timeout: a network deadline, not part of the model.
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(endpoint.url()))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  @Test
  void aScrapeShowsTheGuestsCountersAndItsDriversAsTheyStandNow() throws Exception {
    AtomicReference<GuestStatus> status = new AtomicReference<>();
    DriverStats driver = new DriverStats(null, true, 9, 256, 128, 0, false, 3, 1, 4, 2, 130, 2, 5, 0, 0, 0, 1, 0,
        0, 0, 0, 0, 0, 0, 11, 0, 0, 0, 0, 0);
    try (MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1", 0,
        new GuestMetrics("vm1", status::get, () -> driver))) {
      assertTrue(endpoint.url().startsWith("http://127.0.0.1:"), endpoint.url());
      String before = scrape(endpoint);
      assertFalse(before.contains("balloonlab_guest_true_faults_total"), "no status before the first report");
      assertTrue(before.contains("balloonlab_guest_balloon_bytes{vm=\"vm1\"} 524288.0"), before);
      assertTrue(before.contains("balloonlab_guest_balloon_stats_reports_total{vm=\"vm1\"} 11.0"), before);

      status.set(new GuestStatus(2_500_000_000L, 1000, 40, 7, 33, 12, 7, 0, 0, 100, 4096, 12, 5, "uniform", false));
      String after = scrape(endpoint);
      assertTrue(after.contains("balloonlab_guest_true_faults_total{vm=\"vm1\"} 40.0"), after);
      assertTrue(after.contains("balloonlab_guest_simulated_seconds{vm=\"vm1\"} 2.5"), after);
      assertTrue(after.contains("balloonlab_guest_swap_used_bytes{vm=\"vm1\"} 49152.0"), after);
      assertTrue(after.contains("balloonlab_guest_free_bytes{vm=\"vm1\"} 409600.0"), after);
    }
  }
}
