// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.ClusterStatus;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The hub's status page and what it reads: {@code /} (plain HTML, CSS and a small script, from the hub's jar),
 * {@code /api/status} (the cluster as JSON, with recently exited actors), {@code /api/events} (server-sent events:
 * the status again whenever it changes, so the page updates without a reload) and {@code /api/logs/ACTOR} (a chunk
 * of an actor's log, read through its agent as {@code spoke logs} does; the page follows it). On the hub's loop.
 */
final class HubWeb {

  /** How often the status is compared with the last one sent, while someone listens. */
  static final long EVENTS_INTERVAL_MS = 250;
  /** A comment line this often keeps proxies from closing a quiet event stream. */
  static final long KEEPALIVE_MS = 15_000;
  /** Recently exited actors the page lists. */
  static final int EXITED_SHOWN = 50;
  static final int MAX_LOG_CHUNK = 64 * 1024;

  private static final Map<String, String> FILES = Map.of("/", "index.html", "/app.js", "app.js", "/style.css", "style.css");

  private final HubState state;
  private final ClientHandler clients;
  private final ActorDirectory directory;
  private final Map<String, Buffer> files = new java.util.HashMap<>();
  private final Set<HttpServerResponse> listeners = new HashSet<>();
  private long timer = -1;
  private String last;
  private long lastSentAtMs;

  HubWeb(HubState state, ClientHandler clients, ActorDirectory directory) {
    this.state = state;
    this.clients = clients;
    this.directory = directory;
  }

  /** Reads the page's files from the jar (on a worker, before the server starts). */
  void load() {
    for (Map.Entry<String, String> file : FILES.entrySet()) {
      try (InputStream in = HubWeb.class.getResourceAsStream("/io/spoke/vertx/hub/web/" + file.getValue())) {
        if (in == null) {
          throw new IllegalStateException("the hub's jar lacks its status page file " + file.getValue());
        }
        files.put(file.getKey(), Buffer.buffer(in.readAllBytes()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  void routes(Router router) {
    for (String path : FILES.keySet()) {
      String type = path.endsWith(".js") ? "text/javascript; charset=utf-8" : path.endsWith(".css") ? "text/css; charset=utf-8"
        : "text/html; charset=utf-8";
      router.get(path).handler(rc -> rc.response().putHeader(HttpHeaders.CONTENT_TYPE, type).putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
        .putHeader("X-Content-Type-Options", "nosniff").putHeader("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
        .end(files.get(path)));
    }
    router.get("/api/status").handler(rc -> json(rc, status().encode()));
    router.get("/api/events").handler(this::events);
    router.get("/api/logs/:actor").handler(this::log);
  }

  void close() {
    if (timer >= 0) {
      state.vertx.cancelTimer(timer);
      timer = -1;
    }
    for (HttpServerResponse listener : listeners) {
      listener.reset();
    }
    listeners.clear();
  }

  /** The cluster as the page shows it: {@code spoke status}, plus recently exited actors. */
  JsonObject status() {
    ClusterStatus cluster = clients.clusterStatus();
    JsonObject json = cluster.toJson();
    JsonArray exited = new JsonArray();
    java.util.List<ActorInfo> recent = new java.util.ArrayList<>(directory.recentlyExited());
    for (int i = recent.size() - 1; i >= 0 && exited.size() < EXITED_SHOWN; i--) {
      ActorInfo info = recent.get(i);
      if (!state.actors.containsKey(info.id())) {
        exited.add(info.toJson());
      }
    }
    return json.put("exited", exited);
  }

  private void events(RoutingContext rc) {
    HttpServerResponse response = rc.response();
    response.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").putHeader("X-Accel-Buffering", "no");
    listeners.add(response);
    response.closeHandler(v -> listeners.remove(response));
    response.exceptionHandler(err -> listeners.remove(response));
    String now = status().encode();
    send(response, now);
    if (timer < 0) {
      last = now;
      lastSentAtMs = System.currentTimeMillis();
      timer = state.vertx.setPeriodic(EVENTS_INTERVAL_MS, t -> tick());
    }
  }

  private void tick() {
    if (listeners.isEmpty()) {
      state.vertx.cancelTimer(timer);
      timer = -1;
      return;
    }
    String now = status().encode();
    long nowMs = System.currentTimeMillis();
    if (now.equals(last)) {
      if (nowMs - lastSentAtMs >= KEEPALIVE_MS) {
        lastSentAtMs = nowMs;
        broadcast(": keepalive\n\n");
      }
      return;
    }
    last = now;
    lastSentAtMs = nowMs;
    broadcast(event(now));
  }

  /** Writes {@code text} to every listener; one too slow to take what was sent before is dropped, not buffered for. */
  private void broadcast(String text) {
    for (HttpServerResponse listener : new java.util.ArrayList<>(listeners)) {
      if (listener.writeQueueFull()) {
        listeners.remove(listener);
        listener.reset();
      } else {
        listener.write(text);
      }
    }
  }

  private static void send(HttpServerResponse response, String status) {
    response.write(event(status));
  }

  private static String event(String status) {
    return "event: status\ndata: " + status + "\n\n";
  }

  private void log(RoutingContext rc) {
    String actorId = rc.pathParam("actor");
    long offset;
    int max;
    try {
      offset = Long.parseLong(rc.queryParams().get("offset") == null ? "0" : rc.queryParams().get("offset"));
      max = rc.queryParams().get("max") == null ? MAX_LOG_CHUNK : Integer.parseInt(rc.queryParams().get("max"));
    } catch (NumberFormatException e) {
      error(rc, 400, "offset and max must be numbers");
      return;
    }
    if (offset < 0 || max <= 0) {
      error(rc, 400, "offset must be >= 0 (-1 is not taken here) and max > 0");
      return;
    }
    clients.readLog(actorId, offset, Math.min(max, MAX_LOG_CHUNK)).onComplete(ar -> {
      if (rc.response().closed()) {
        return;
      }
      if (ar.failed()) {
        Throwable e = ar.cause();
        error(rc, e instanceof ActorNotFoundException ? 404 : e instanceof InvalidRequestException ? 400 : 503, e.getMessage());
        return;
      }
      ActorLog chunk = ar.result();
      json(rc, new JsonObject().put("actor", actorId).put("path", chunk.path()).put("offset", chunk.offset())
        .put("nextOffset", chunk.nextOffset()).put("size", chunk.size()).put("running", chunk.running())
        .put("data", chunk.data().toString(StandardCharsets.UTF_8)).encode());
    });
  }

  private static void json(RoutingContext rc, String body) {
    rc.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").putHeader(HttpHeaders.CACHE_CONTROL, "no-store").end(body);
  }

  private static void error(RoutingContext rc, int status, String message) {
    rc.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .end(new JsonObject().put("error", message).encode());
  }
}
