package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.StatusRuntimeException;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.balloonlab.lab.BalloonLabCommand;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.lab.dashboard.DashboardServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;

/**
 * The live dashboard in a real headless browser (Debian's Chromium driven by its chromedriver through Selenium):
 * the page loads after the one-time sign-in, the chart of a guest updates as its balloon inflates, and a target
 * set from the page becomes the VM's target (seen through the management API). Control requests without a
 * session, without the anti-forgery header or from another origin are refused. Skipped, with the reason, where
 * Chromium or chromedriver is missing or cannot start.
 */
class DashboardIT {
  /** Debian's Chromium and its driver; other paths by {@code -Dballoonlab.chromium=} and {@code -Dballoonlab.chromedriver=}. */
  private static final Path CHROMIUM = Path.of(System.getProperty("balloonlab.chromium", "/usr/bin/chromium"));
  private static final Path CHROMEDRIVER = Path.of(System.getProperty("balloonlab.chromedriver",
      "/usr/bin/chromedriver"));
  private static final long MIB = 256; // pages

  private Lab lab;
  private JvmProcess dashboard;
  private WebDriver browser;
  private Path profile;

  @AfterEach
  void tearDown() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (dashboard != null && dashboard.isAlive()) {
      dashboard.stop(10, TimeUnit.SECONDS);
    }
    if (lab != null) {
      lab.close();
    }
    if (profile != null) {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void thePageShowsTheLabAndSetsATarget() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "Chromium or chromedriver is not installed (" + CHROMIUM + ", " + CHROMEDRIVER + "): apt-get install -y "
            + "chromium chromium-driver");
    lab = new Lab("dashboard");
    lab.startHypervisor("--policy", "manual", "--memory", "160MiB");
    lab.startReadyGuest("vm1", "--memory", "64MiB", "--workload", "hotset:footprint=48MiB,hot=0.5", "--duration",
        "1h");
    lab.startReadyGuest("vm2", "--memory", "64MiB", "--workload", "uniform:footprint=40MiB", "--duration", "1h");
    // A look that misses its 5 s deadline on a loaded machine is retried: the wait as a whole is what is bounded.
    await("the guests touched their footprints").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
        .ignoreExceptionsInstanceOf(StatusRuntimeException.class).until(() -> lab.vm("vm1").getMappedPages() >= 40 * MIB && lab.vm("vm2").getMappedPages() >= 32 * MIB);

    Path loginFile = lab.logDir().toAbsolutePath().resolve("dashboard-login.url");
    Files.deleteIfExists(loginFile);
    dashboard = JvmProcess.start("dashboard", BalloonLabCommand.class.getName(), List.of("dashboard",
        "--hypervisor", lab.address(), "--listen", "127.0.0.1:0", "--poll", "200ms", "--login-file",
        loginFile.toString(), "--operator-token-file", lab.stateDir().resolve("operator.token").toString()),
        "256m", lab.logDir(), null);
    await("the dashboard serves").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> dashboard.lineStartingWith(DashboardServer.SERVING) != null || !dashboard.isAlive());
    String base = dashboard.lineStartingWith(DashboardServer.SERVING);
    assertTrue(base != null, "the dashboard printed its address; see " + lab.logDir());
    base = base.strip();
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(loginFile)));
    String signIn = Files.readString(loginFile).strip();
    String code = signIn.substring(signIn.indexOf("code=") + 5);
    for (String line : dashboard.lines()) {
      assertFalse(line.contains(code), "the sign-in code is never printed: " + line);
      assertFalse(line.contains(lab.labToken().reveal()), "no token is printed");
    }

    HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    String origin = base.substring(0, base.length() - 1);
    assertEquals(401, http.send(HttpRequest.newBuilder(URI.create(base + "api/state")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode(), "no state without a session");
    assertEquals(401, post(http, base, origin, null, null).statusCode(), "no control without a session");

    browser = startBrowser();
    browser.get(signIn);
    await("the page shows the VMs").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> browser.findElements(By.cssSelector("#vm-table tbody tr")).size() == 2);
    // The table is redrawn each second: read its rows in one script, not element by element.
    Object rows = ((JavascriptExecutor) browser).executeScript(
        "return Array.from(document.querySelectorAll('#vm-table tbody tr')).map(r => r.dataset.vm)");
    assertEquals(List.of("vm1", "vm2"), rows);
    assertEquals(403, http.send(HttpRequest.newBuilder(URI.create(signIn)).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode(), "the sign-in address works once");

    // Control requests with the browser's session cookie but without the page's anti-forgery value, or from
    // another origin, are refused; the VM's target stays untouched.
    Cookie session = browser.manage().getCookieNamed("balloonlab_session");
    assertTrue(session != null && session.isHttpOnly(), "the session cookie is HTTP-only");
    String cookie = session.getName() + "=" + session.getValue();
    assertEquals(403, post(http, base, origin, cookie, null).statusCode(), "no anti-forgery header");
    assertEquals(403, post(http, base, "http://evil.example", cookie, "x").statusCode(), "another origin");
    assertEquals(0, lab.vm("vm1").getBalloon().getTargetPages());

    WebElement chart = browser.findElement(By.id("chart-vm1"));
    int pointsBefore = points(chart);
    await("the chart updates").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
        .until(() -> points(browser.findElement(By.id("chart-vm1"))) > pointsBefore);
    assertEquals("0", chart.getAttribute("data-balloon-pages"));

    new Select(browser.findElement(By.id("control-vm"))).selectByValue("vm1");
    browser.findElement(By.id("target")).sendKeys("16MiB");
    browser.findElement(By.id("set-target")).click();
    await("the target set from the page is the VM's").atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100)).until(() -> lab.vm("vm1").getBalloon().getTargetPages() == 16 * MIB);
    await("the page says so").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> browser.findElement(By.id("control-result")).getText().contains("balloon target 16MiB"));
    await("the chart shows the balloon inflated").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> browser.findElement(By.id("chart-vm1")).getAttribute("data-balloon-pages")
            .equals(String.valueOf(16 * MIB)));
    assertEquals(16 * MIB, lab.vm("vm1").getBalloon().getSizePages(), "the chart shows what the API says");

    // A bad size is refused with a message, and changes nothing.
    browser.findElement(By.id("target")).clear();
    browser.findElement(By.id("target")).sendKeys("lots");
    browser.findElement(By.id("set-target")).click();
    await("the page shows the refusal").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> browser.findElement(By.id("control-result")).getText().startsWith("refused (400)"));
    assertEquals(16 * MIB, lab.vm("vm1").getBalloon().getTargetPages());

    // The driver mode, from the page.
    browser.findElement(By.id("mode")).sendKeys("disabled");
    browser.findElement(By.id("set-mode")).click();
    await("the driver mode set from the page").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.vm("vm1").getBalloon().getRequestedMode().toLowerCase().contains("disabled"));
    await("the table and the events show it").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
        .until(() -> (Boolean) ((JavascriptExecutor) browser).executeScript(
            "return document.getElementById('vm-table').textContent.includes('disabled')"
                + " && document.getElementById('events').textContent.includes('disabled')"));

    Path png = lab.logDir().resolve("dashboard.png");
    Files.write(png, ((ChromeDriver) browser).getScreenshotAs(OutputType.BYTES));

    dashboard.stop(10, TimeUnit.SECONDS);
    assertFalse(Files.exists(loginFile), "the sign-in file is removed when the dashboard stops");
  }

  private static int points(WebElement chart) {
    String p = chart.getAttribute("data-points");
    return p == null ? 0 : Integer.parseInt(p);
  }

  private static HttpResponse<String> post(HttpClient http, String base, String origin, String cookie, String csrf)
      throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "api/balloon"))
        .header("Content-Type", "application/json").header("Origin", origin)
        .POST(HttpRequest.BodyPublishers.ofString("{\"vm\":\"vm1\",\"target\":\"8MiB\"}"));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    if (csrf != null) {
      b.header("X-BalloonLab-Csrf", csrf);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Debian's Chromium through its chromedriver, headless; the test is skipped, saying why, if either cannot start. */
  private WebDriver startBrowser() throws IOException {
    profile = Files.createTempDirectory("balloonlab-chromium");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,1200");
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort()
        .withLogFile(lab.logDir().resolve("chromedriver.log").toFile()).build();
    try {
      ChromeDriver driver = new ChromeDriver(service, options);
      driver.manage().window().setSize(new Dimension(1280, 1200));
      return driver;
    } catch (RuntimeException e) {
      service.stop();
      Assumptions.abort("Chromium or chromedriver cannot start here: " + e.getMessage().lines().findFirst()
          .orElse(e.toString()));
      return null;
    }
  }
}
