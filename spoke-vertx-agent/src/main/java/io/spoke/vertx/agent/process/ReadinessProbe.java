// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.process;

import io.spoke.vertx.client.Readiness;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Waits, without blocking the event loop, until a managed process is ready as its {@link Readiness} says: a TCP port
 * on this node accepts, an HTTP GET answers 2xx, or a new line of its log matches. Checks every
 * {@value #INTERVAL_MS} ms until {@link #cancel() cancelled} (the process exited, or the launch timed out). One probe
 * per process, confined to the agent's context; log reads run on a worker.
 */
public final class ReadinessProbe {

  static final long INTERVAL_MS = 50;
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
  /** The most of a log line a log check looks at; longer lines are cut. */
  private static final int MAX_LINE = 64 * 1024;

  private final ContextInternal context;
  private final Readiness readiness;
  private final String target;
  private final Path logFile;
  private final Promise<Void> ready;
  private boolean cancelled;
  private long timer = -1;
  private NetClient tcp;
  private HttpClient http;
  private Pattern pattern;
  private long logOffset;
  private final StringBuilder partialLine = new StringBuilder();

  private ReadinessProbe(ContextInternal context, Readiness readiness, String target, Path logFile, long logOffset) {
    this.context = context;
    this.readiness = readiness;
    this.target = target;
    this.logFile = logFile;
    this.logOffset = logOffset;
    this.ready = context.promise();
  }

  /**
   * Starts probing; the future completes when the process is ready and fails only when the check cannot be made
   * (a {@code ${VAR}} its environment lacks). {@code logOffset} is where the process's output starts in
   * {@code logFile}, so that an earlier run's lines do not count.
   */
  public static ReadinessProbe start(ContextInternal context, Readiness readiness, Map<String, String> env, Path logFile, long logOffset) {
    String target;
    try {
      target = resolve("readiness", readiness, env);
    } catch (IllegalArgumentException e) {
      ReadinessProbe probe = new ReadinessProbe(context, readiness, readiness.target(), logFile, logOffset);
      probe.ready.fail(e);
      return probe;
    }
    ReadinessProbe probe = new ReadinessProbe(context, readiness, target, logFile, logOffset);
    probe.begin();
    return probe;
  }

  /**
   * {@code check}'s target with {@code env}'s values for its {@code ${VAR}}s, checked as its kind needs it: a TCP port
   * in 1..65535, an http:// URL with a host, a regular expression that compiles. An {@link IllegalArgumentException}
   * naming the check ({@code what}: "readiness", "liveness"), the variable and its value otherwise: a spawn checks its
   * checks with it before it starts anything, so that none fails later in a timer.
   */
  public static String resolve(String what, Readiness check, Map<String, String> env) {
    String target = substitute("the " + what + " check " + check, check.target(), env);
    switch (check.kind()) {
      case TCP:
        int port;
        try {
          port = Integer.parseInt(target.trim());
        } catch (NumberFormatException e) {
          port = -1;
        }
        if (port < 1 || port > 65535) {
          throw new IllegalArgumentException("the " + what + " check " + check + " needs a TCP port in 1..65535, but "
            + (target.equals(check.target()) ? "it is '" + target + "'" : check.target() + " is '" + target + "' here"));
        }
        return String.valueOf(port);
      case HTTP:
        try {
          URI uri = new URI(target);
          if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new URISyntaxException(target, "not an http:// URL with a host");
          }
        } catch (URISyntaxException e) {
          throw new IllegalArgumentException("the " + what + " check " + check + " needs an http://HOST:PORT/PATH URL, but it is '"
            + target + "' here (" + e.getReason() + ")");
        }
        return target;
      case LOG:
        try {
          Pattern.compile(target);
        } catch (PatternSyntaxException e) {
          throw new IllegalArgumentException("the " + what + " check " + check + " is not a regular expression here: " + e.getDescription());
        }
        return target;
      default:
        return target;
    }
  }

  /** {@code text} with each {@code ${VAR}} replaced by {@code env}'s value; a variable it lacks is an error. */
  private static String substitute(String check, String text, Map<String, String> env) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = env.get(m.group(1));
      if (value == null) {
        throw new IllegalArgumentException(check + " refers to ${" + m.group(1)
          + "}, which the process's environment does not have");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  /**
   * A checker for {@code readiness}'s TCP or HTTP target (a liveness check): it does not probe on its own; each
   * {@link #checkOnce(long)} tries once. {@link #cancel()} closes its clients.
   */
  public static ReadinessProbe checker(ContextInternal context, Readiness readiness, Map<String, String> env) {
    ReadinessProbe probe = new ReadinessProbe(context, readiness, resolve("liveness", readiness, env), null, 0);
    Vertx vertx = context.owner();
    if (readiness.kind() == Readiness.Kind.TCP) {
      probe.tcp = vertx.createNetClient(new NetClientOptions().setConnectTimeout(1000));
    } else if (readiness.kind() == Readiness.Kind.HTTP) {
      probe.http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(1000).setKeepAlive(false));
    }
    probe.ready.tryComplete();
    return probe;
  }

  /** One try of a TCP or HTTP check, answered within {@code timeoutMs}: whether it passed. */
  public Future<Boolean> checkOnce(long timeoutMs) {
    if (cancelled) {
      return context.succeededFuture(false);
    }
    if (readiness.kind() == Readiness.Kind.TCP) {
      return tcp.connect(Integer.parseInt(target), "127.0.0.1").map(socket -> {
        socket.close();
        return true;
      }).otherwise(false);
    }
    if (readiness.kind() == Readiness.Kind.HTTP) {
      return http.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(target).setTimeout(timeoutMs))
        .compose(request -> request.send())
        .compose(response -> response.body().map(body -> response.statusCode() >= 200 && response.statusCode() < 300))
        .otherwise(false);
    }
    return context.succeededFuture(true);
  }

  /** Completes when the process is ready. */
  public Future<Void> ready() {
    return ready.future();
  }

  /** What is being waited for, for messages: "tcp:8000", "http://127.0.0.1:8000/health". */
  public String describe() {
    return readiness.kind() == Readiness.Kind.NONE ? "start" : readiness.kind().name().toLowerCase(java.util.Locale.ROOT) + ":" + target;
  }

  /** Stops probing (the process exited, or the launch gave up); the future stays as it is. */
  public void cancel() {
    cancelled = true;
    if (timer >= 0) {
      context.owner().cancelTimer(timer);
      timer = -1;
    }
    close();
  }

  private void begin() {
    Vertx vertx = context.owner();
    switch (readiness.kind()) {
      case NONE:
        ready.complete();
        return;
      case TCP:
        tcp = vertx.createNetClient(new NetClientOptions().setConnectTimeout((int) Math.max(INTERVAL_MS * 4, 200)));
        break;
      case HTTP:
        http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(1000).setKeepAlive(false));
        break;
      case LOG:
        pattern = Pattern.compile(target);
        break;
      default:
        throw new IllegalStateException(readiness.kind().name());
    }
    check();
  }

  private void check() {
    if (cancelled || ready.future().isComplete()) {
      return;
    }
    Future<Boolean> attempt;
    switch (readiness.kind()) {
      case TCP:
        attempt = tcp.connect(Integer.parseInt(target), "127.0.0.1").map(socket -> {
          socket.close();
          return true;
        }).otherwise(false);
        break;
      case HTTP:
        attempt = http.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(target).setTimeout(2000))
          .compose(request -> request.send())
          .compose(response -> response.body().map(body -> response.statusCode() >= 200 && response.statusCode() < 300))
          .otherwise(false);
        break;
      case LOG:
        attempt = context.executeBlocking(this::readLog, false);
        break;
      default:
        attempt = context.succeededFuture(true);
    }
    attempt.onComplete(ar -> {
      if (cancelled || ready.future().isComplete()) {
        return;
      }
      if (ar.succeeded() && ar.result()) {
        ready.tryComplete();
        close();
      } else {
        timer = context.setTimer(INTERVAL_MS, id -> {
          timer = -1;
          check();
        });
      }
    });
  }

  /** On a worker: reads what the log gained since the last look; whether a whole new line matches. */
  private boolean readLog() throws IOException {
    try (RandomAccessFile file = new RandomAccessFile(logFile.toFile(), "r")) {
      long length = file.length();
      if (length <= logOffset) {
        return false;
      }
      byte[] bytes = new byte[(int) Math.min(length - logOffset, 1 << 20)];
      file.seek(logOffset);
      file.readFully(bytes);
      logOffset += bytes.length;
      String text = new String(bytes, StandardCharsets.UTF_8);
      int start = 0;
      for (int nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        partialLine.append(text, start, nl);
        start = nl + 1;
        if (pattern.matcher(partialLine).find()) {
          return true;
        }
        partialLine.setLength(0);
      }
      partialLine.append(text, start, text.length());
      if (partialLine.length() > MAX_LINE) {
        partialLine.setLength(MAX_LINE);
      }
      // A line without its end yet may match already ("Uvicorn running on ...", then more later).
      return pattern.matcher(partialLine).find();
    } catch (java.io.FileNotFoundException e) {
      return false;
    }
  }

  private void close() {
    if (tcp != null) {
      tcp.close();
      tcp = null;
    }
    if (http != null) {
      http.close();
      http = null;
    }
  }
}
