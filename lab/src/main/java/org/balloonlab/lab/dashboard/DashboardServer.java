package org.balloonlab.lab.dashboard;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.balloonlab.lab.ManagementClient;
import org.balloonlab.transport.Token;
import org.balloonlab.units.HostPort;

/**
 * The dashboard's HTTP server (the JDK's {@code com.sun.net.httpserver}): the page and its scripts, uPlot from its
 * WebJar on the class path, the JSON views of {@link LabFeed}, sign-in ({@link DashboardAuth}) and the control
 * actions ({@link DashboardControl}).
 *
 * <pre>
 * GET  /                       the page                          GET  /api/state           the latest state
 * GET  /dashboard.js, .css     its script and style              GET  /api/history?after=N samples after N
 * GET  /uplot/uPlot.iife.min.js, uPlot.min.css (the WebJar)      GET  /api/events?after=N  events after N
 * GET  /login?code=CODE        one-time sign-in, then to /       GET  /api/session         signed in? anti-forgery
 * POST /login (token=...)      sign in with the operator token   POST /api/balloon, /api/driver  control
 * </pre>
 * Every answer forbids framing and sniffing and allows scripts from this origin only.
 */
public final class DashboardServer implements AutoCloseable {
  /** Printed once the dashboard serves: {@code BALLOONLAB_DASHBOARD http://127.0.0.1:8080/}. */
  public static final String SERVING = "BALLOONLAB_DASHBOARD ";

  /** The largest request body read; a control request is a few dozen bytes. */
  private static final int MAX_BODY = 4096;
  private static final String STATIC = "/org/balloonlab/lab/dashboard/";

  private final HttpServer server;
  private final ExecutorService executor;
  private final LabFeed feed;
  private final DashboardControl control;
  private final DashboardAuth auth;
  private final String address;
  private final String uplotDir;

  /**
   * Serves a dashboard of the hypervisor {@code client} talks to, on {@code listen} (port 0: any free port).
   *
   * @param operator the operator token, which a person may paste to sign in; {@code null} if unknown
   */
  public DashboardServer(HostPort listen, ManagementClient client, Token operator, long pollMs) throws IOException {
    this.server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 16);
    int port = server.getAddress().getPort();
    String host = listen.host();
    boolean wildcard = host.equals("0.0.0.0") || host.equals("::");
    this.address = "http://" + (wildcard ? "127.0.0.1" : host.contains(":") ? "[" + host + "]" : host) + ":" + port
        + "/";
    List<String> hosts = new ArrayList<>();
    if (!wildcard) {
      hosts.add((host.contains(":") ? "[" + host + "]" : host) + ":" + port);
      if (host.equals("127.0.0.1") || host.equals("::1") || host.equals("localhost")) {
        hosts.addAll(List.of("localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port));
      }
    }
    this.auth = new DashboardAuth(operator, hosts);
    this.uplotDir = uplotDirectory();
    this.feed = new LabFeed(client, pollMs);
    this.control = new DashboardControl(client);
    this.executor = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "dashboard-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The address to open in a browser, such as {@code http://127.0.0.1:8080/}. */
  public String address() {
    return address;
  }

  /** Writes the one-time sign-in address to {@code file} (readable by its owner only). */
  public void writeSignInFile(Path file) throws IOException {
    auth.writeSignInFile(address, file);
  }

  /** Where uPlot lies in its WebJar: {@code META-INF/resources/webjars/uplot/VERSION/dist/}. */
  private static String uplotDirectory() throws IOException {
    Properties p = new Properties();
    try (InputStream in = DashboardServer.class.getResourceAsStream(
        "/META-INF/maven/org.webjars.npm/uplot/pom.properties")) {
      if (in == null) {
        throw new IOException("uPlot's WebJar is not on the class path");
      }
      p.load(in);
    }
    return "/META-INF/resources/webjars/uplot/" + p.getProperty("version") + "/dist/";
  }

  private void handle(HttpExchange x) throws IOException {
    try (x) {
      Headers h = x.getResponseHeaders();
      h.set("X-Frame-Options", "DENY");
      h.set("X-Content-Type-Options", "nosniff");
      h.set("Referrer-Policy", "no-referrer");
      h.set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
      h.set("Cache-Control", "no-store");
      String host = x.getRequestHeaders().getFirst("Host");
      if (!auth.hostAllowed(host)) {
        send(x, 403, "text/plain", "this dashboard answers only to its own address");
        return;
      }
      String method = x.getRequestMethod();
      String path = x.getRequestURI().getRawPath();
      if (method.equals("GET")) {
        get(x, path);
      } else if (method.equals("POST")) {
        post(x, path, host);
      } else {
        h.set("Allow", "GET, POST");
        send(x, 405, "text/plain", "method not allowed");
      }
    } catch (RuntimeException e) {
      send(x, 500, "text/plain", "internal error");
    }
  }

  private void get(HttpExchange x, String path) throws IOException {
    switch (path) {
      case "/", "/index.html" -> resource(x, STATIC + "index.html", "text/html; charset=utf-8");
      case "/dashboard.js" -> resource(x, STATIC + "dashboard.js", "text/javascript; charset=utf-8");
      case "/dashboard.css" -> resource(x, STATIC + "dashboard.css", "text/css; charset=utf-8");
      case "/uplot/uPlot.iife.min.js" -> resource(x, uplotDir + "uPlot.iife.min.js", "text/javascript; charset=utf-8");
      case "/uplot/uPlot.min.css" -> resource(x, uplotDir + "uPlot.min.css", "text/css; charset=utf-8");
      case "/login" -> {
        String session = auth.signInWithCode(query(x).get("code"));
        if (session == null) {
          send(x, 403, "text/plain", "this sign-in address was used already or is wrong: paste the operator token "
              + "on the dashboard's page instead");
          return;
        }
        signedIn(x, session);
      }
      case "/api/session" -> {
        String session = auth.session(x.getRequestHeaders().get("Cookie"));
        send(x, 200, "application/json", session == null ? "{\"signedIn\":false}"
            : "{\"signedIn\":true,\"csrf\":\"" + auth.csrf(session) + "\"}");
      }
      case "/api/state", "/api/history", "/api/events" -> {
        if (auth.session(x.getRequestHeaders().get("Cookie")) == null) {
          send(x, 401, "application/json", "{\"error\":\"sign in first\"}");
          return;
        }
        long after;
        try {
          after = Long.parseLong(query(x).getOrDefault("after", "0"));
        } catch (NumberFormatException e) {
          send(x, 400, "application/json", "{\"error\":\"after must be a sequence number\"}");
          return;
        }
        if (after < 0) {
          send(x, 400, "application/json", "{\"error\":\"after cannot be negative\"}");
          return;
        }
        send(x, 200, "application/json", switch (path) {
          case "/api/state" -> feed.stateJson();
          case "/api/history" -> feed.historyJson(after);
          default -> feed.eventsJson(after);
        });
      }
      default -> send(x, 404, "text/plain", "not found");
    }
  }

  private void post(HttpExchange x, String path, String host) throws IOException {
    if (!DashboardAuth.sameOrigin(x.getRequestHeaders().getFirst("Origin"), host)) {
      send(x, 403, "application/json", "{\"error\":\"cross-site request refused\"}");
      return;
    }
    String body = body(x);
    if (body == null) {
      send(x, 413, "application/json", "{\"error\":\"request body too large\"}");
      return;
    }
    if (path.equals("/login")) {
      String token = form(body).get("token");
      String session = auth.signInWithToken(token);
      if (session == null) {
        send(x, 403, "text/plain", "that is not the operator token of this lab's hypervisor");
        return;
      }
      signedIn(x, session);
      return;
    }
    if (!path.equals("/api/balloon") && !path.equals("/api/driver")) {
      send(x, 404, "text/plain", "not found");
      return;
    }
    String session = auth.session(x.getRequestHeaders().get("Cookie"));
    if (session == null) {
      send(x, 401, "application/json", "{\"error\":\"sign in first\"}");
      return;
    }
    if (!auth.csrfMatches(session, x.getRequestHeaders().getFirst(DashboardAuth.CSRF_HEADER))) {
      send(x, 403, "application/json", "{\"error\":\"missing or wrong " + DashboardAuth.CSRF_HEADER + "\"}");
      return;
    }
    DashboardControl.Answer a = path.equals("/api/balloon") ? control.balloon(body) : control.driver(body);
    send(x, a.status(), "application/json", a.json());
  }

  private static void signedIn(HttpExchange x, String session) throws IOException {
    x.getResponseHeaders().add("Set-Cookie", DashboardAuth.cookie(session));
    x.getResponseHeaders().set("Location", "/");
    x.sendResponseHeaders(303, -1);
  }

  /** The request body, or {@code null} if longer than {@link #MAX_BODY}. */
  private static String body(HttpExchange x) throws IOException {
    byte[] b = x.getRequestBody().readNBytes(MAX_BODY + 1);
    return b.length > MAX_BODY ? null : new String(b, StandardCharsets.UTF_8);
  }

  private static Map<String, String> query(HttpExchange x) {
    String q = x.getRequestURI().getRawQuery();
    return form(q == null ? "" : q);
  }

  /** {@code a=1&b=2} decoded; a key given twice keeps its first value. */
  private static Map<String, String> form(String text) {
    Map<String, String> m = new java.util.HashMap<>();
    for (String pair : text.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        try {
          m.putIfAbsent(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
              URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
          // a malformed escape: the pair is ignored, and the request fails as if it were missing
        }
      }
    }
    return m;
  }

  private static void resource(HttpExchange x, String name, String type) throws IOException {
    try (InputStream in = DashboardServer.class.getResourceAsStream(name)) {
      if (in == null) {
        send(x, 404, "text/plain", "not found");
        return;
      }
      x.getResponseHeaders().set("Content-Type", type);
      byte[] b = in.readAllBytes();
      x.sendResponseHeaders(200, b.length);
      try (OutputStream out = x.getResponseBody()) {
        out.write(b);
      }
    }
  }

  private static void send(HttpExchange x, int status, String type, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", type.contains("charset") ? type : type + "; charset=utf-8");
    x.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
    if (b.length > 0) {
      try (OutputStream out = x.getResponseBody()) {
        out.write(b);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    feed.close();
  }
}
