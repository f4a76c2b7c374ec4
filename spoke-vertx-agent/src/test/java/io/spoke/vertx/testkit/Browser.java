// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.testkit;

import static io.spoke.vertx.test.Await.await;

import io.spoke.vertx.test.ProcessCleanup;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real headless Chromium (Debian's {@code chromium}), driven through the Chrome DevTools Protocol over a
 * WebSocket: navigate, evaluate a script in the page, capture a screenshot. One page; closed with every process
 * the browser started.
 */
public final class Browser implements AutoCloseable {

  private final Process process;
  private final Path profile;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, Promise<JsonObject>> pending = new ConcurrentHashMap<>();

  private Browser(Process process, Path profile, WebSocket socket) {
    this.process = process;
    this.profile = profile;
    this.socket = socket;
    socket.textMessageHandler(text -> {
      JsonObject message = new JsonObject(text);
      Integer id = message.getInteger("id");
      Promise<JsonObject> waiting = id == null ? null : pending.remove(id);
      if (waiting == null) {
        return;
      }
      if (message.containsKey("error")) {
        waiting.fail(new IllegalStateException("CDP error: " + message.getJsonObject("error").encode()));
      } else {
        waiting.complete(message.getJsonObject("result", new JsonObject()));
      }
    });
  }

  /** Starts Chromium (Debian's, {@code apt-get install chromium}: .ci/run installs it) and attaches to its page. */
  public static Browser start(Vertx vertx, ProcessCleanup processes) throws Exception {
    Path profile = Files.createTempDirectory("spoke-chromium");
    Path output = profile.resolve("chromium.out");
    List<String> command = new ArrayList<>(List.of("/usr/bin/chromium", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
      "--no-first-run", "--no-default-browser-check", "--window-size=1400,1000", "--remote-debugging-port=0",
      "--remote-debugging-address=127.0.0.1", "--user-data-dir=" + profile, "about:blank"));
    if ("root".equals(System.getProperty("user.name"))) {
      command.add(1, "--no-sandbox"); // Chromium's sandbox refuses to run as root (CI runs as root)
    }
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile())
      .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    processes.track(process.pid());
    try {
      // Chromium writes its DevTools port (and the browser's path) here once it listens.
      Path active = profile.resolve("DevToolsActivePort");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!(Files.exists(active) && Files.readAllLines(active).size() >= 2)) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("Chromium did not start: " + Files.readString(output));
        }
        Thread.sleep(50);
      }
      int port = Integer.parseInt(Files.readAllLines(active).get(0).strip());
      JsonArray targets = new JsonArray(Http.get("http://127.0.0.1:" + port + "/json/list", null).body());
      String page = null;
      for (Object t : targets) {
        JsonObject target = (JsonObject) t;
        if ("page".equals(target.getString("type"))) {
          page = target.getString("webSocketDebuggerUrl");
        }
      }
      if (page == null) {
        throw new IllegalStateException("Chromium has no page: " + targets.encode());
      }
      URI uri = URI.create(page);
      WebSocket socket = await(vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(64 << 20)
        .setMaxMessageSize(64 << 20)).connect(new WebSocketConnectOptions().setHost(uri.getHost()).setPort(uri.getPort())
        .setURI(uri.getPath())));
      Browser browser = new Browser(process, profile, socket);
      browser.call("Page.enable", new JsonObject());
      browser.call("Runtime.enable", new JsonObject());
      return browser;
    } catch (Exception e) {
      kill(process);
      throw e;
    }
  }

  /** Sends a DevTools command and waits for its result. */
  public JsonObject call(String method, JsonObject params) {
    int id = ids.incrementAndGet();
    Promise<JsonObject> result = Promise.promise();
    pending.put(id, result);
    socket.writeTextMessage(new JsonObject().put("id", id).put("method", method).put("params", params).encode());
    try {
      return result.future().await(30, TimeUnit.SECONDS);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      pending.remove(id);
      throw new IllegalStateException("Chromium did not answer " + method + ": " + e, e);
    }
  }

  public void navigate(String url) {
    call("Page.navigate", new JsonObject().put("url", url));
  }

  /** The value of {@code expression} in the page (promises awaited), or null while the page is between documents. */
  public Object eval(String expression) {
    JsonObject result;
    try {
      result = call("Runtime.evaluate", new JsonObject().put("expression", expression).put("returnByValue", true)
        .put("awaitPromise", true));
    } catch (RuntimeException navigating) {
      return null;
    }
    if (result.containsKey("exceptionDetails")) {
      return null;
    }
    return result.getJsonObject("result", new JsonObject()).getValue("value");
  }

  /** Waits until {@code expression} is true in the page; fails with the page's text if it never is. */
  public void waitFor(String what, String expression) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (Boolean.TRUE.equals(eval("Boolean(" + expression + ")"))) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the page never showed " + what + " (" + expression + "); it shows: " + eval("document.body.innerText"));
  }

  public void screenshot(Path file) throws Exception {
    JsonObject shot = call("Page.captureScreenshot", new JsonObject().put("format", "png").put("captureBeyondViewport", true));
    Files.createDirectories(file.getParent());
    Files.write(file, Base64.getDecoder().decode(shot.getString("data")));
  }

  @Override
  public void close() throws java.io.IOException {
    socket.close();
    try {
      kill(process);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while Chromium exits");
    }
    try (var files = Files.walk(profile)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** Chromium starts helpers (zygote, renderers, GPU process): all of them go, then Chromium. */
  private static void kill(Process process) throws InterruptedException {
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    process.destroyForcibly();
    tree.forEach(ProcessHandle::destroyForcibly);
    process.waitFor(10, TimeUnit.SECONDS);
    for (ProcessHandle child : tree) {
      try {
        child.onExit().get(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("Chromium's process " + child.pid() + " did not exit", e);
      }
    }
  }
}
