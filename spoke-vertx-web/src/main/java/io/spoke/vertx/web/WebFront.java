// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.web;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The HTTP side of a hub or an agent: {@code /metrics} (Prometheus text, from Micrometer), {@code /health},
 * {@code /ready}, and whatever routes its owner adds (the hub's status page). It listens on its owner's host, so
 * the rule of the TCP side holds: loopback unless a cluster token is set. With a token every request needs it, as
 * {@code Authorization: Bearer TOKEN} or as the cookie that {@code POST /login} sets (for browsers; the cookie holds
 * a MAC of the token, never the token). TLS when the owner has a certificate. Unknown paths answer 404, known paths
 * with another method 405, request heads over {@link #MAX_HEADER_SIZE} bytes 431; a handler's failure is the
 * request's 500, never the server's end. Handlers run on the owner's event loop (it must start this there).
 */
public final class WebFront {

  private static final Logger log = LogManager.getLogger(WebFront.class);

  /** Larger request heads are refused (431) before any handler sees them. */
  public static final int MAX_HEADER_SIZE = 8 * 1024;
  /** The only request body taken: a login form. */
  static final int MAX_BODY = 4 * 1024;
  /** How many ports above the default one are tried when it is taken. */
  public static final int PORT_TRIES = 20;
  /** How many times {@link #retry} starts a front again whose port is still held (every 100 ms: 5 s in all). */
  public static final int REBIND_TRIES = 50;
  static final String COOKIE = "spoke_session";
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  /** What {@code /health} or {@code /ready} checks: null when fine, else why not (a 503 says it). */
  public interface Check extends Supplier<Future<String>> {
  }

  private final Vertx vertx;
  private final String server;
  private final String host;
  private final byte[] token;
  private final String session;
  private final boolean tls;
  private final Router router;
  private final Counter authFailures;
  /** Wrong tokens given to /login per address, as on the protocol's side: too many turn the address away for a while. */
  private final ClusterAuth attempts;
  private HttpServer http;

  private WebFront(Vertx vertx, String server, String host, byte[] token, boolean tls, PrometheusMeterRegistry registry,
                   PrometheusMeterRegistry vertxRegistry, Runnable beforeScrape, Check health, Check ready) {
    this.vertx = vertx;
    this.server = server;
    this.host = host;
    this.token = token;
    this.tls = tls;
    this.session = token == null ? null : mac(token);
    this.attempts = ClusterAuth.of(token);
    this.authFailures = Counter.builder("spoke_http_auth_failures").description("HTTP requests refused for a missing or wrong token")
      .register(registry);
    this.router = Router.router(vertx);
    router.route("/login").method(HttpMethod.POST).handler(BodyHandler.create(false).setBodyLimit(MAX_BODY));
    router.get("/login").handler(this::loginPage);
    router.post("/login").handler(this::login);
    router.route().handler(this::authenticate);
    router.get("/health").handler(rc -> check(rc, health));
    router.get("/ready").handler(rc -> check(rc, ready));
    router.get("/metrics").handler(rc -> {
      beforeScrape.run();
      String text = registry.scrape();
      if (vertxRegistry != null && vertxRegistry != registry) {
        text = text + vertxRegistry.scrape();
      }
      rc.response().putHeader(HttpHeaders.CONTENT_TYPE, PROMETHEUS_TEXT).end(text);
    });
    router.route().failureHandler(this::failed);
  }

  /**
   * Starts the front of {@code server} ("the hub") on {@code host}:{@code port} (0: any; with {@code tryNext},
   * the next free one of {@link #PORT_TRIES} above it when taken). {@code beforeScrape} refreshes gauges from the
   * owner's state; {@code routes} adds the owner's routes.
   */
  public static Future<WebFront> start(Vertx vertx, String server, String host, int port, boolean tryNext, SecurityOptions security,
                                       byte[] token, PrometheusMeterRegistry registry, Runnable beforeScrape, Check health, Check ready,
                                       Consumer<Router> routes) {
    HttpServerOptions options = new HttpServerOptions().setMaxHeaderSize(MAX_HEADER_SIZE).setHost(host);
    try {
      security.applyTo(options);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    WebFront front = new WebFront(vertx, server, host, token, security.isTls(), registry, Metrics.vertxRegistry(), beforeScrape, health,
      ready);
    routes.accept(front.router);
    // Registered last: the owner's routes come first, unknown paths fall through to Vert.x Web's 404 and 405.
    return front.listen(options, port, tryNext ? PORT_TRIES : 0).map(front);
  }

  /**
   * Starts a front with {@code start}, again every 100 ms up to {@code tries} more times while its port is still taken:
   * a hub of several, as it leads and stands by in turn, serves the same port from one front and then another.
   */
  public static Future<WebFront> retry(Vertx vertx, int tries, Supplier<Future<WebFront>> start) {
    return start.get().recover(err -> {
      if (tries <= 0 || !String.valueOf(err.getMessage()).contains("in use")) {
        return Future.failedFuture(err);
      }
      Promise<Void> later = Promise.promise();
      vertx.setTimer(100, t -> later.complete());
      return later.future().compose(v -> retry(vertx, tries - 1, start));
    });
  }

  private Future<Void> listen(HttpServerOptions options, int port, int triesLeft) {
    HttpServer candidate = vertx.createHttpServer(new HttpServerOptions(options).setPort(port)).requestHandler(router);
    return candidate.listen().transform(ar -> {
      if (ar.succeeded()) {
        http = ar.result();
        log.info("{} serves HTTP on {}{}", server, url(), token != null ? " (token required)" : "");
        return Future.succeededFuture();
      }
      if (triesLeft > 0 && port > 0) {
        log.info("{}: HTTP port {} is taken ({}); trying {}", server, port, ar.cause().getMessage(), port + 1);
        return listen(options, port + 1, triesLeft - 1);
      }
      return Future.failedFuture(new IllegalStateException(server + " cannot serve HTTP on " + host + ":" + port + ": "
        + ar.cause().getMessage() + " (choose another --http-port, or -1 for none)"));
    });
  }

  public int actualPort() {
    return http.actualPort();
  }

  /** Where it is reached, as a browser would open it. */
  public String url() {
    String shown = host.equals("0.0.0.0") ? "127.0.0.1" : host.contains(":") ? "[" + host + "]" : host;
    return (tls ? "https" : "http") + "://" + shown + ":" + http.actualPort() + "/";
  }

  public Future<Void> close() {
    return http == null ? Future.succeededFuture() : http.close();
  }

  // ---------------------------------------------------------------- authentication

  private void authenticate(RoutingContext rc) {
    if (token == null || hasBearer(rc) || hasSession(rc)) {
      rc.next();
      return;
    }
    authFailures.increment();
    String accept = rc.request().getHeader(HttpHeaders.ACCEPT);
    if (rc.request().method() == HttpMethod.GET && accept != null && accept.contains("text/html")) {
      rc.redirect("/login");
      return;
    }
    rc.response().setStatusCode(401).putHeader("WWW-Authenticate", "Bearer realm=\"spoke\"")
      .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
      .end(server + " needs the cluster token: send 'Authorization: Bearer TOKEN', or log in at /login\n");
  }

  private boolean hasBearer(RoutingContext rc) {
    String header = rc.request().getHeader(HttpHeaders.AUTHORIZATION);
    return header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
      && MessageDigest.isEqual(token, header.substring(7).strip().getBytes(StandardCharsets.UTF_8));
  }

  private boolean hasSession(RoutingContext rc) {
    Cookie cookie = rc.request().getCookie(COOKIE);
    return cookie != null && MessageDigest.isEqual(session.getBytes(StandardCharsets.US_ASCII),
      cookie.getValue().getBytes(StandardCharsets.US_ASCII));
  }

  private void loginPage(RoutingContext rc) {
    rc.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8").end("<!doctype html><html><head><meta charset=utf-8>"
      + "<title>Spoke: log in</title><style>body{font:15px system-ui,sans-serif;display:grid;place-items:center;height:90vh}"
      + "form{display:grid;gap:.6em}</style></head><body class=login><form method=post action=/login>"
      + "<h1>Spoke</h1><p>" + (token == null ? "This " + escape(server) + " needs no token." : "The cluster token of "
      + escape(server) + ":") + "</p><input type=password name=token autofocus autocomplete=current-password>"
      + "<button type=submit>Log in</button></form></body></html>");
  }

  /**
   * Whether {@code address} is turned away from /login now (too many wrong tokens lately): then it is told so, 429 with
   * when to try again, whatever it sent.
   */
  private boolean turnedAway(RoutingContext rc, String address) {
    long blockedMs = attempts.blockedFor(address, System.currentTimeMillis());
    if (blockedMs <= 0) {
      return false;
    }
    long seconds = Math.max(1, (blockedMs + 999) / 1000);
    rc.response().setStatusCode(429).putHeader("Retry-After", String.valueOf(seconds))
      .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
      .end("too many wrong tokens from " + address + "; try again in " + seconds + " s\n");
    return true;
  }

  private void login(RoutingContext rc) {
    String address = ClusterAuth.hostKey(rc.request().remoteAddress());
    if (token != null && turnedAway(rc, address)) {
      return;
    }
    String given = rc.request().getFormAttribute("token");
    if (token != null && (given == null || !MessageDigest.isEqual(token, given.strip().getBytes(StandardCharsets.UTF_8)))) {
      authFailures.increment();
      long blocked = attempts.failed(address, System.currentTimeMillis());
      if (blocked > 0) {
        log.warn("{}: {} gave a wrong token at /login too often; turned away for {} ms", server, address, blocked);
      }
      rc.response().setStatusCode(401).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8").end("wrong token\n");
      return;
    }
    if (token != null) {
      attempts.succeeded(address);
    }
    if (session != null) {
      rc.response().addCookie(Cookie.cookie(COOKIE, session).setPath("/").setHttpOnly(true).setSecure(tls)
        .setSameSite(CookieSameSite.STRICT));
    }
    rc.response().setStatusCode(303).putHeader(HttpHeaders.LOCATION, "/").end();
  }

  // ---------------------------------------------------------------- checks and failures

  private static void check(RoutingContext rc, Check check) {
    Future<String> outcome;
    try {
      outcome = check == null ? Future.succeededFuture() : check.get();
    } catch (RuntimeException e) {
      outcome = Future.failedFuture(e);
    }
    outcome.onComplete(ar -> {
      String problem = ar.failed() ? String.valueOf(ar.cause().getMessage()) : ar.result();
      JsonObject body = problem == null ? new JsonObject().put("status", "ok") : new JsonObject().put("status", "fail").put("reason", problem);
      rc.response().setStatusCode(problem == null ? 200 : 503).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(body.encode() + "\n");
    });
  }

  private void failed(RoutingContext rc) {
    int status = rc.statusCode() > 0 ? rc.statusCode() : 500;
    if (rc.failure() != null && status == 500) {
      log.error("{}: HTTP {} {} failed", server, rc.request().method(), rc.request().path(), rc.failure());
    }
    if (!rc.response().ended() && !rc.response().headWritten()) {
      // What went wrong is in the server's log: an answer carries none of it (paths, names, secrets).
      rc.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .end(status == 500 ? "internal error; " + server + "'s log has the details\n" : status + "\n");
    } else if (!rc.response().ended()) {
      rc.response().reset();
    }
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  private static String mac(byte[] token) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(token, "HmacSHA256"));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal("spoke-http-session".getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
