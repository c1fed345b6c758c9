package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.balloonlab.lab.JvmProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code balloonlab explain} on a lab where the idle memory tax moves memory, every part in its own JVM: the
 * launcher runs the lab (and prints where its hypervisor serves metrics), a second {@code balloonlab} process asks
 * why the idle VM's target moved, and its answer names the tax. The metrics endpoint the run printed is scraped too.
 */
class ExplainIT {
  /**
   * Two 24 MiB VMs of equal shares on 32 MiB at tau 0.75: one works, the other touched its memory once and idles.
   * Sampling every simulated second, the sampler soon finds the idle VM idle and the policy reclaims from it first.
   * The run is long and paced at one simulated second per wall second, so that it leaves the CPUs to the
   * {@code explain} processes; the test stops it once it has what it needs.
   */
  private static final String SCENARIO = """
      name: explain-tax
      duration: 10m
      hypervisor:
        memory: 32MiB
        tau: 0.75
        sample-period: 1s
        sample-gains: {fast: 0.5, slow: 0.25}
        metrics-port: 0
        pace: 1x
      guests:
        - name: busy
          memory: 24MiB
          shares: 1000
          workload: uniform:footprint=20MiB,rate=50000
          seed: 7
        - name: sleepy
          memory: 24MiB
          shares: 1000
          workload: {type: idle, footprint: 20MiB}
          seed: 8
      report: {interval: 1s, plots: false}
      """;

  private LabRuns runs;

  @BeforeEach
  void setUp() throws Exception {
    runs = new LabRuns(Path.of("target", "it-explain"));
  }

  @AfterEach
  void cleanUp() {
    runs.close();
    // Killed processes take a moment to be gone.
    await("the lab's processes gone").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .untilAsserted(runs::assertNothingLeft);
  }

  private static String after(JvmProcess p, String prefix) {
    for (String line : p.lines()) {
      int at = line.indexOf(prefix);
      if (at >= 0) {
        return line.substring(at + prefix.length()).trim();
      }
    }
    return null;
  }

  @Test
  void theExplanationOfAnIdleVmsTargetNamesTheTax() throws Exception {
    Path scenario = runs.scenario("explain-tax", SCENARIO);
    JvmProcess lab = runs.start("run", "run", scenario.toString(), "--run-dir",
        runs.work().resolve("run").toString(), "--plain");
    await("the hypervisor's address").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> after(lab, " listening on ") != null || !lab.isAlive());
    String address = after(lab, " listening on ");
    assertTrue(address != null, "the launcher printed where its hypervisor listens: " + lab.lines());
    String metrics = after(lab, "hypervisor metrics (Prometheus) at ");
    assertTrue(metrics != null && metrics.startsWith("http://127.0.0.1:"), "the launcher printed where metrics are "
        + "served, on loopback: " + lab.lines());
    runs.awaitChildren(lab, 3);
    try {
      explainAndScrape(lab, address, metrics);
    } finally {
      lab.stop(30, TimeUnit.SECONDS);
    }
  }

  private void explainAndScrape(JvmProcess lab, String address, String metrics) throws Exception {

    // Ask as a student would, until the policy has taxed the idle VM (the sampler needs a few periods).
    String[] explanation = new String[1];
    int[] attempt = new int[1];
    await("an explanation that names the idle memory tax").atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(2)).until(() -> {
          assertTrue(lab.isAlive(), "the lab ended early: " + lab.lines());
          JvmProcess explain = runs.start("explain-" + attempt[0]++, "explain", "sleepy", "--last", "32",
              "--hypervisor", address);
          int code = runs.awaitEnd(explain, Duration.ofSeconds(60));
          explanation[0] = String.join("\n", explain.lines());
          if (code != 0) {
            return false; // a loaded machine may miss the command's deadline: ask again
          }
          return explanation[0].contains("idle memory tax (tau 0.75) charged each of its idle pages");
        });
    String text = explanation[0];
    assertTrue(text.contains("sleepy's allocation fell"), text);
    assertTrue(text.contains("lowest shares per page"), text);
    assertTrue(text.contains("4x an active one"), "k = 1 / (1 - 0.75) = 4: " + text);
    assertTrue(text.contains("busy"), "the other VM's inputs are listed: " + text);

    // The metrics endpoint the launcher printed answers, with the VMs the lab runs.
    // Wall-clock timeout: a network deadline, not part of the model.
    HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(metrics))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, scrape.statusCode());
    assertTrue(scrape.body().contains("balloonlab_vm_active_ratio{vm=\"sleepy\"}"), scrape.body());
    assertTrue(scrape.body().contains("balloonlab_vm_balloon_target_bytes{vm=\"sleepy\"}"), scrape.body());
  }
}
