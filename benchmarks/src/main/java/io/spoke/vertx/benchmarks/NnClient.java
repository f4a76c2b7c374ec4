// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import io.spoke.vertx.benchmarks.baseline.EchoClient;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One client process of the n:n benchmark: connects to every target, prints {@code ready}, reads
 * {@code start EPOCH_MS} from its standard input (the same instant for every client process), calls every target
 * in turn with {@code inFlight} calls outstanding, warming up until that instant and measuring from it, and
 * prints {@code result CALLS SECONDS}.
 *
 * <pre>
 * NnClient spoke HUB_PORT IN_FLIGHT DURATION_MS ACTOR_ID,ACTOR_ID,...
 * NnClient echo  -        IN_FLIGHT DURATION_MS PORT,PORT,...
 * </pre>
 */
public final class NnClient {

  private NnClient() {
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    int inFlight = Integer.parseInt(args[2]);
    long duration = Long.parseLong(args[3]);
    String[] targets = args[4].split(",");
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    Context context = vertx.getOrCreateContext();
    Buffer payload = Buffer.buffer(new byte[64]);
    Supplier<Future<?>> call;
    int[] next = {0};
    if (mode.equals("spoke")) {
      // Created on the context that drives the calls (one event loop here anyway).
      int hubPort = Integer.parseInt(args[1]);
      Promise<SpokeClient> created = Promise.promise();
      context.runOnContext(v -> created.complete(SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(hubPort).setLocalSockets(false))));
      SpokeClient client = created.future().await(60, TimeUnit.SECONDS);
      for (String id : targets) {
        // Resolve and connect before the clock starts.
        Load.run(context, () -> client.call(id, BenchActor.ECHO, payload), 1, 0, 0).await(60, TimeUnit.SECONDS);
      }
      call = () -> client.call(targets[next[0]++ % targets.length], BenchActor.ECHO, payload);
    } else {
      List<EchoClient> clients = new ArrayList<>();
      for (String port : targets) {
        clients.add(EchoClient.connect(vertx, context, Integer.parseInt(port)).await(60, TimeUnit.SECONDS));
      }
      call = () -> clients.get(next[0]++ % clients.size()).call(payload);
    }
    System.out.println("ready");
    System.out.flush();
    String start = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII)).readLine();
    if (start == null || !start.startsWith("start ")) {
      System.err.println("NnClient: expected 'start EPOCH_MS' on standard input, got " + start);
      System.exit(2);
    }
    long warmup = Math.max(0, Long.parseLong(start.substring(6).trim()) - System.currentTimeMillis());
    Load.Outcome outcome = Load.run(context, call, inFlight, warmup, duration).await(warmup + duration + 60_000, TimeUnit.MILLISECONDS);
    System.out.println("result " + outcome.calls + " " + outcome.seconds);
    System.out.flush();
    System.exit(0);
  }
}
