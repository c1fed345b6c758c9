package org.balloonlab.lab.dashboard;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.balloonlab.hypervisor.grpc.HypervisorServer;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.lab.ManagementClient;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.transport.Token;
import org.balloonlab.units.HostPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's HTTP side against a hypervisor served on a local port: what needs a session, the one-time
 * sign-in, the operator token, the cross-site checks, and the validation of every action.
 */
class DashboardServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private Machine machine;
  private HypervisorServer hypervisor;
  private ManagementClient client;
  private DashboardServer dashboard;
  private final Token operator = Token.generate();
  private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
  private String base;
  private String origin;

  @BeforeEach
  void serve() throws Exception {
    machine = new Machine(new MachineConfig(64, 256, dir.resolve("host.swap"), 16, CostModel.DEFAULT, 1));
    machine.powerOn("vm10", "linux", 32);
    machine.powerOn("vm2", "linux", 32);
    hypervisor = new HypervisorServer(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)), machine,
        Duration.ofHours(1)).start();
    client = new ManagementClient(new HostPort("127.0.0.1", hypervisor.port()), ClientSecurity.NONE);
    dashboard = new DashboardServer(new HostPort("127.0.0.1", 0), client, operator, 100);
    base = dashboard.address();
    origin = base.substring(0, base.length() - 1);
  }

  @AfterEach
  void stop() throws Exception {
    dashboard.close();
    client.close();
    hypervisor.stop();
    machine.close();
  }

  private HttpResponse<String> get(String path, String cookie) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String body, String from, String cookie, String csrf)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (from != null) {
      b.header("Origin", from);
    }
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    if (csrf != null) {
      b.header(DashboardAuth.CSRF_HEADER, csrf);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Signs in with the one-time address; the session cookie. */
  private String signIn() throws Exception {
    Path file = dir.resolve("login.url");
    dashboard.writeSignInFile(file);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(Files.readString(file).strip())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(303, r.statusCode());
    return r.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
  }

  private String csrf(String cookie) throws Exception {
    return JSON.readTree(get("api/session", cookie).body()).path("csrf").asText();
  }

  @Test
  void thePageAndUplotAreServedFromTheJarWithoutASession() throws Exception {
    HttpResponse<String> page = get("", null);
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("/uplot/uPlot.iife.min.js"));
    assertTrue(page.headers().firstValue("Content-Security-Policy").orElseThrow().contains("default-src 'self'"));
    assertEquals("DENY", page.headers().firstValue("X-Frame-Options").orElseThrow());
    HttpResponse<String> uplot = get("uplot/uPlot.iife.min.js", null);
    assertEquals(200, uplot.statusCode());
    assertTrue(uplot.body().contains("uPlot"), "uPlot's own script, from its WebJar");
    assertEquals(200, get("dashboard.js", null).statusCode());
    assertEquals(404, get("../../etc/passwd", null).statusCode());
    assertFalse(JSON.readTree(get("api/session", null).body()).path("signedIn").asBoolean());
  }

  @Test
  void everyViewAndActionNeedsASession() throws Exception {
    for (String path : new String[] {"api/state", "api/history", "api/events"}) {
      assertEquals(401, get(path, null).statusCode(), path);
      assertEquals(401, get(path, "balloonlab_session=" + Token.generate().reveal()).statusCode(), path);
    }
    assertEquals(401, post("api/balloon", "{\"vm\":\"vm2\",\"target\":\"4MiB\"}", origin, null, null).statusCode());
    assertEquals(0, target("vm2"));
  }

  @Test
  void theSignInAddressWorksOnceAndIsWrittenForItsOwnerOnly() throws Exception {
    Path file = dir.resolve("login.url");
    dashboard.writeSignInFile(file);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    String address = Files.readString(file).strip();
    assertTrue(address.startsWith(base + "login?code="));
    assertEquals(403, get("login?code=" + Token.generate().reveal(), null).statusCode(), "a wrong code");
    HttpResponse<String> first = http.send(HttpRequest.newBuilder(URI.create(address)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(303, first.statusCode());
    String cookie = first.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), cookie);
    assertEquals(403, http.send(HttpRequest.newBuilder(URI.create(address)).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode(), "used up");
    assertEquals(200, get("api/state", cookie.split(";")[0]).statusCode());
  }

  @Test
  void theOperatorTokenSignsInFromThePageOnly() throws Exception {
    String form = "token=" + URLEncoder.encode(operator.reveal(), StandardCharsets.UTF_8);
    assertEquals(403, post("login", form, null, null, null).statusCode(), "no Origin");
    assertEquals(403, post("login", form, "http://evil.example", null, null).statusCode(), "another origin");
    assertEquals(403, post("login", "token=" + Token.generate().reveal(), origin, null, null).statusCode());
    HttpResponse<String> r = post("login", form, origin, null, null);
    assertEquals(303, r.statusCode());
    assertTrue(JSON.readTree(get("api/session", r.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0])
        .body()).path("signedIn").asBoolean());
  }

  @Test
  void anActionNeedsItsOriginAndTheSessionsAntiForgeryValue() throws Exception {
    String cookie = signIn();
    String csrf = csrf(cookie);
    String body = "{\"vm\":\"vm2\",\"target\":\"64KiB\"}";
    assertEquals(403, post("api/balloon", body, null, cookie, csrf).statusCode(), "no Origin");
    assertEquals(403, post("api/balloon", body, "http://evil.example", cookie, csrf).statusCode());
    assertEquals(403, post("api/balloon", body, origin, cookie, null).statusCode(), "no anti-forgery value");
    assertEquals(403, post("api/balloon", body, origin, cookie, Token.generate().reveal()).statusCode());
    assertEquals(0, target("vm2"));
    HttpResponse<String> ok = post("api/balloon", body, origin, cookie, csrf);
    assertEquals(200, ok.statusCode(), ok.body());
    assertEquals(16, target("vm2"));
    assertEquals("vm2: balloon target 64KiB", JSON.readTree(ok.body()).path("message").asText());
  }

  @Test
  void everyFieldIsValidatedAndWhatTheHypervisorRefusesComesBack() throws Exception {
    String cookie = signIn();
    String csrf = csrf(cookie);
    String[][] bad = {
        {"api/balloon", "not json", "400", "not JSON"},
        {"api/balloon", "[1]", "400", "JSON object"},
        {"api/balloon", "{\"target\":\"4MiB\"}", "400", "must be given, as a string"},
        {"api/balloon", "{\"vm\":\"no such!\",\"target\":\"4MiB\"}", "400", "VM name must be"},
        {"api/balloon", "{\"vm\":\"vm2\",\"target\":\"lots\"}", "400", "cannot read 'lots'"},
        {"api/balloon", "{\"vm\":\"vm2\",\"target\":\"4097\"}", "400", "multiple of the 4 KiB page"},
        {"api/balloon", "{\"vm\":\"vm2\",\"target\":\"" + "9".repeat(5000) + "\"}", "413", "too large"},
        {"api/balloon", "{\"vm\":\"vm2\",\"target\":\"" + "9".repeat(500) + "\"}", "400", "too long"},
        {"api/balloon", "{\"vm\":\"vm3\",\"target\":\"4MiB\"}", "404", "NOT_FOUND"},
        {"api/driver", "{\"vm\":\"vm2\",\"mode\":\"sideways\"}", "400", "sideways"},
        {"api/reset", "{}", "404", "not found"},
    };
    for (String[] b : bad) {
      HttpResponse<String> r = post(b[0], b[1], origin, cookie, csrf);
      assertEquals(Integer.parseInt(b[2]), r.statusCode(), b[1].length() > 80 ? "long" : b[1]);
      assertTrue(r.body().contains(b[3]), r.body());
      assertTrue(r.body().length() < 400, "never echoes unbounded input: " + r.body().length());
    }
    assertEquals(0, target("vm2"));
    HttpResponse<String> mode = post("api/driver", "{\"vm\":\"vm2\",\"mode\":\"disabled\"}", origin, cookie, csrf);
    assertEquals(200, mode.statusCode(), mode.body());
    assertEquals("disabled", vm("vm2").getBalloon().getRequestedMode());
  }

  @Test
  void theViewsShowTheLabInNaturalOrder() throws Exception {
    String cookie = signIn();
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> JSON.readTree(get("api/history", cookie).body()).path("samples").size() >= 2);
    JsonNode state = JSON.readTree(get("api/state", cookie).body());
    assertEquals("vm2", state.path("vms").get(0).path("name").asText(), "vm2 before vm10");
    assertEquals("vm10", state.path("vms").get(1).path("name").asText());
    assertEquals(64, state.path("machine").path("machineFrames").asLong());
    JsonNode samples = JSON.readTree(get("api/history", cookie).body()).path("samples");
    long last = samples.get(samples.size() - 1).path("seq").asLong();
    assertEquals(32, samples.get(0).path("vms").path("vm2").get(3).asLong(), "configured pages");
    assertTrue(JSON.readTree(get("api/history?after=" + last, cookie).body()).path("samples").size() <= 1);
    assertEquals(400, get("api/history?after=-1", cookie).statusCode());
    assertEquals(400, get("api/history?after=x", cookie).statusCode());
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> JSON.readTree(get("api/events", cookie).body()).path("events").size() >= 2);
    JsonNode e = JSON.readTree(get("api/events", cookie).body()).path("events").get(0);
    assertEquals("vm_powered_on", e.path("kind").asText());
  }

  @Test
  void aRequestForAnotherHostIsRefused() throws Exception {
    // A DNS-rebinding page reaches the dashboard under its own host name: refused, whatever the path.
    int port = URI.create(base).getPort();
    try (Socket s = new Socket("127.0.0.1", port)) {
      OutputStream out = s.getOutputStream();
      out.write(("GET / HTTP/1.1\r\nHost: evil.example:" + port + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
          .readLine();
      assertNotNull(status);
      assertTrue(status.contains(" 403"), status);
    }
    assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode(), "localhost names a loopback dashboard too");
  }

  private org.balloonlab.proto.VmState vm(String name) {
    return client.stub().listVms(ListVmsRequest.getDefaultInstance()).getVmsList().stream()
        .filter(v -> v.getName().equals(name)).findFirst().orElseThrow();
  }

  private long target(String name) {
    return vm(name).getBalloon().getTargetPages();
  }
}
