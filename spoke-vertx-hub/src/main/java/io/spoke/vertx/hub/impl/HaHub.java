// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import static io.spoke.vertx.hub.impl.EtcdCalls.bytes;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.spoke.vertx.NotLeaderException;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.HubEndpoints;
import io.spoke.vertx.web.Metrics;
import io.spoke.vertx.web.WebFront;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One hub of a highly available control plane ({@link HubOptions#setEtcd}): a standby until etcd elects it
 * ({@link HubLeadership}), then a {@link HubServer} whose state lives in etcd ({@link EtcdStateLog}), and a standby again
 * the moment it no longer leads. A standby listens on the hub's port and answers every peer's hello (once the peer
 * proved the cluster token) with a {@link NotLeaderException} that names the leader, which agents and clients follow;
 * it holds no state. A new leader checks that the cluster's state was made under its cluster token (a fingerprint in
 * {@code PREFIX/cluster}) and refuses to lead another cluster's state. On the hub verticle's context.
 */
public final class HaHub {

  private static final Logger log = LogManager.getLogger(HaHub.class);

  /** How long a hub that refused to lead (another cluster's state) waits before it stands for election again. */
  static final long REFUSAL_PAUSE_MS = 5_000;

  private final Vertx vertx;
  private final HubOptions options;
  private final String endpoints;
  private Context context;
  private Client client;
  private Vertx etcdVertx;
  private EtcdCalls etcd;
  private HubLeadership leadership;
  private String address;
  /** Bound for the hub's whole life: a standby's refusals, or the leader's {@link HubServer}. */
  private NetServer listener;
  private HubServer server;
  private int generation;
  /** Leadership, etcd's latency: on every registry this hub serves ({@code /metrics} of the leader's front or the standby's). */
  private final CompositeMeterRegistry meters = new CompositeMeterRegistry();
  private final PrometheusMeterRegistry standbyRegistry = Metrics.newRegistry();
  private WebFront standbyWeb;
  private long leaderChanges;
  private boolean stopped;
  /** Why this hub last refused to lead, or null: what its standby's /ready says. */
  private String refusal;

  public HaHub(Vertx vertx, HubOptions options) {
    this.vertx = vertx;
    this.options = new HubOptions(options);
    this.endpoints = String.join(",", options.getEtcd());
  }

  /** Completes once the hub listens (as a standby); it leads once etcd elects it. */
  public Future<Void> start() {
    if (options.getStateDir() != null) {
      return Future.failedFuture(new IllegalArgumentException("a hub keeps its state in etcd (--etcd) or in a state directory "
        + "(--state-dir), not both"));
    }
    context = vertx.getOrCreateContext();
    try {
      // jetcd 0.8.6's Client.close() closes the Vert.x it was given: it gets one of its own, small, never the application's.
      etcdVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1).setInternalBlockingPoolSize(1));
      client = secured(Client.builder().endpoints(options.getEtcd().toArray(new String[0])).vertx(etcdVertx)
        .maxInboundMessageSize(64 << 20).connectTimeout(Duration.ofMillis(Math.min(5_000, options.getLeaseTtl())))).build();
    } catch (RuntimeException | IOException e) {
      if (etcdVertx != null) {
        etcdVertx.close();
      }
      return Future.failedFuture(new IllegalArgumentException("cannot use etcd at " + endpoints + ": " + e.getMessage(), e));
    }
    etcd = new EtcdCalls(context, endpoints, Math.max(1_000, options.getLeaseTtl() / 2), meters);
    Gauge.builder("spoke_hub_leader", this, hub -> hub.leading() ? 1 : 0).description("1 while this hub leads the cluster, 0 while it "
      + "stands by").register(meters);
    FunctionCounter.builder("spoke_hub_leader_changes", this, hub -> hub.leaderChanges).description("Times this hub came to lead or "
      + "stopped leading").register(meters);
    return listen().compose(port -> startStandbyWeb(true).map(port)).map(port -> {
      options.setPort(port);
      address = options.getAdvertise() != null ? options.getAdvertise() : HubEndpoints.format(advertisedHost(options.getHost()), port);
      leadership = new HubLeadership(vertx, client, etcd, options.getEtcdPrefix(), address, options.getLeaseTtl(), new HubLeadership.Listener() {
        @Override
        public void elected(ByteSequence key, long revision) {
          lead(key, revision);
        }

        @Override
        public void deposed(String why) {
          standDown();
        }
      });
      log.info("Hub at {} stands by for election on etcd {} (prefix {}, lease {} ms)", address, endpoints, options.getEtcdPrefix(),
        options.getLeaseTtl());
      leadership.start();
      return null;
    });
  }

  /** etcd's user and password, and TLS: its CA and the hub's client certificate, as the options say. */
  private ClientBuilder secured(ClientBuilder builder) throws IOException {
    if (options.getEtcdUser() != null || options.getEtcdPasswordFile() != null) {
      if (options.getEtcdUser() == null || options.getEtcdPasswordFile() == null) {
        throw new IllegalArgumentException("etcdUser and etcdPasswordFile go together");
      }
      List<String> lines = Files.readAllLines(Paths.get(options.getEtcdPasswordFile()), StandardCharsets.UTF_8);
      if (lines.isEmpty() || lines.get(0).isEmpty()) {
        throw new IllegalArgumentException("the etcd password file " + options.getEtcdPasswordFile() + " is empty");
      }
      builder.user(bytes(options.getEtcdUser())).password(bytes(lines.get(0)));
    }
    if ((options.getEtcdCert() == null) != (options.getEtcdKey() == null)) {
      throw new IllegalArgumentException("etcdCert and etcdKey go together");
    }
    boolean https = options.getEtcd().stream().anyMatch(e -> e.startsWith("https://"));
    if (!https && (options.getEtcdCa() != null || options.getEtcdCert() != null)) {
      throw new IllegalArgumentException("etcdCa, etcdCert and etcdKey are for https:// etcd endpoints; these are http://");
    }
    if (https) {
      if (options.getEtcd().stream().anyMatch(e -> e.startsWith("http://"))) {
        throw new IllegalArgumentException("the etcd endpoints are all https:// or all http://, not both");
      }
      for (String file : new String[] {options.getEtcdCa(), options.getEtcdCert(), options.getEtcdKey()}) {
        if (file != null && !Files.isReadable(Paths.get(file))) {
          throw new IllegalArgumentException("cannot read " + file + " (for etcd's TLS)");
        }
      }
      builder.sslContext(tls -> {
        if (options.getEtcdCa() != null) {
          tls.trustManager(new File(options.getEtcdCa()));
        }
        if (options.getEtcdCert() != null) {
          tls.keyManager(new File(options.getEtcdCert()), new File(options.getEtcdKey()));
        }
      });
    }
    return builder;
  }

  private static String advertisedHost(String host) {
    if (!host.equals("0.0.0.0") && !host.equals("::")) {
      return host;
    }
    try {
      return InetAddress.getLocalHost().getHostAddress();
    } catch (UnknownHostException e) {
      return host;
    }
  }

  private Future<Integer> listen() {
    ClusterAuth auth;
    NetServerOptions serverOptions;
    try {
      auth = ClusterAuth.forServer("the hub", options.getHost(), options.getSecurity().resolveToken(), options.getSecurity().isInsecure(), log);
      serverOptions = options.getSecurity().applyTo(new NetServerOptions());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    NetServer front = vertx.createNetServer(serverOptions.setHost(options.getHost()).setPort(options.getPort()).setTcpNoDelay(true));
    front.connectHandler(socket -> {
      HubServer serving = server;
      if (serving != null && serving.started) {
        serving.accept(socket);
        return;
      }
      Connection.accept(socket, options.getMaxFrameSize(), "the hub", auth, (connection, hello) -> {
        String leader = leadership == null ? null : leadership.leader();
        return Future.failedFuture(new NotLeaderException("the hub at " + address + " is a standby; " + (leader != null && !leader.equals(address)
          ? "the hub at " + leader + " leads" : "no hub leads now (an election is under way, or etcd is unreachable)"), leader));
      });
    });
    return front.listen().map(s -> {
      listener = front;
      return s.actualPort();
    });
  }

  /** Elected: checks the cluster's fingerprint, then serves as the hub, its state read from etcd. */
  private void lead(ByteSequence key, long revision) {
    int mine = ++generation;
    ByteSequence fingerprintKey = bytes(options.getEtcdPrefix() + "/cluster");
    String fingerprint = fingerprint();
    Cmp fence = new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(revision));
    etcd.call(client.getKVClient().txn().If(fence, new Cmp(fingerprintKey, Cmp.Op.EQUAL, CmpTarget.version(0)))
      .Then(Op.put(fingerprintKey, bytes(fingerprint), PutOption.DEFAULT)).Else(Op.get(fingerprintKey, GetOption.DEFAULT)).commit(),
      "the check of the cluster's token").compose(response -> {
        if (!response.isSucceeded()) {
          List<KeyValue> found = response.getGetResponses().get(0).getKvs();
          if (!found.isEmpty() && !found.get(0).getValue().toString(StandardCharsets.UTF_8).equals(fingerprint)) {
            return Future.failedFuture(new IllegalStateException("the state under " + options.getEtcdPrefix() + " belongs to a cluster "
              + "with another cluster token: give this hub that cluster's token, or another --etcd-prefix"));
          }
        }
        return Future.succeededFuture();
      }).compose(v -> {
        if (mine != generation || stopped) {
          return Future.succeededFuture();
        }
        HubServer serving = new HubServer(vertx, options);
        meters.add(serving.registry());
        serving.hubs(leadership::hubs);
        serving.etcdState(snapshot -> new EtcdStateLog(client.getKVClient(), etcd, options.getEtcdPrefix(), endpoints, key, revision,
          snapshot, () -> context.runOnContext(x -> leadership.deposedByWrite("a write found that another hub leads"))));
        server = serving;
        leaderChanges++;
        return closeStandbyWeb().compose(x -> serving.start()).onSuccess(x -> serving.started = true).onFailure(err -> {
          if (server == serving) {
            server = null;
          }
        });
      }).onComplete(ar -> {
        if (mine != generation || stopped) {
          return;
        }
        if (ar.succeeded()) {
          refusal = null;
          log.info("Hub at {} leads and serves on port {}", address, options.getPort());
        } else {
          refusal = ar.cause().getMessage();
          log.error("Hub at {} was elected but cannot lead: {}; it resigns and stands by ({} ms before it stands for election again)",
            address, refusal, REFUSAL_PAUSE_MS);
          leadership.pause(REFUSAL_PAUSE_MS);
          leadership.deposedByWrite("it could not take over");
        }
      });
  }

  /** No longer the leader: closes every connection (agents and clients go to the next leader) and stands by. */
  private void standDown() {
    generation++;
    HubServer serving = server;
    server = null;
    if (serving != null) {
      leaderChanges++;
      serving.stop().onComplete(ar -> meters.remove(serving.registry())).transform(ar -> stopped ? Future.succeededFuture() : startStandbyWeb(false))
        .onFailure(err -> log.error("Hub at {} cannot serve its standby's HTTP port {}: {}", address, options.getHttpPort(), err.getMessage()));
    }
  }

  /** /health (200), /ready (503: a standby) and /metrics while this hub stands by, on the port its leader's front uses. */
  private Future<Void> startStandbyWeb(boolean first) {
    if (options.getHttpPort() < 0 || standbyWeb != null) {
      return Future.succeededFuture();
    }
    meters.add(standbyRegistry);
    return WebFront.retry(vertx, first ? 0 : WebFront.REBIND_TRIES, () -> WebFront.start(vertx, "the hub (standby)", options.getHost(),
      options.getHttpPort(), first && options.getHttpPort() == HubOptions.DEFAULT_HTTP_PORT, options.getSecurity(),
      options.getSecurity().resolveToken(), standbyRegistry, () -> { }, () -> Future.succeededFuture(), () -> Future.succeededFuture(
        "a standby: " + (leadership != null && leadership.leader() != null ? "the hub at " + leadership.leader() + " leads" : "no hub leads now")
          + (refusal == null ? "" : "; this hub refused to lead: " + refusal)),
      router -> { })).map(front -> {
        standbyWeb = front;
        // The leader's front takes the same port, so that a load balancer's /ready finds whichever leads.
        options.setHttpPort(front.actualPort());
        return null;
      });
  }

  private Future<Void> closeStandbyWeb() {
    WebFront front = standbyWeb;
    standbyWeb = null;
    return front == null ? Future.succeededFuture() : front.close();
  }

  /** The standby's front, while this hub stands by; null otherwise. */
  public String standbyHttpUrl() {
    WebFront front = standbyWeb;
    return front == null ? null : front.url();
  }

  /** SHA-256 of the cluster token (or of nothing, without one): tells clusters apart without storing the token. */
  private String fingerprint() {
    byte[] token = options.getSecurity().resolveToken();
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update("spoke-cluster:".getBytes(StandardCharsets.UTF_8));
      if (token != null) {
        digest.update(token);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The serving hub while this one leads, else null. */
  public HubServer server() {
    HubServer serving = server;
    return serving != null && serving.started ? serving : null;
  }

  /** Whether this hub leads now. */
  public boolean leading() {
    return leadership != null && leadership.leading() && server() != null;
  }

  public int actualPort() {
    return options.getPort();
  }

  /** Resigns (a standby takes over at once), closes every connection and lets go of etcd. */
  public Future<Void> stop() {
    stopped = true;
    generation++;
    HubServer serving = server;
    server = null;
    // Serving ends first (what it queued is written while it still leads), then the lead is given up.
    Future<Void> served = serving == null ? Future.succeededFuture() : serving.stop();
    return served.transform(ar -> leadership == null ? Future.succeededFuture() : leadership.stop())
      .transform(ar -> closeStandbyWeb())
      .transform(ar -> listener == null ? Future.succeededFuture() : listener.close())
      .transform(ar -> client == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
        // Closes etcdVertx too.
        client.close();
        return null;
      })).mapEmpty();
  }
}
