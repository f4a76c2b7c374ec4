// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.AuthenticationException;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The cluster token on every connection (client to hub, client to actor, agent to hub, actor host to agent)
 * and TLS on every socket, with real processes; and the rule that nothing is exposed beyond loopback without
 * a token.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class SecurityIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);
  private Vertx vertx;

  private <T> T onContext(Supplier<Future<T>> action) throws Exception {
    Promise<T> promise = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> action.get().onComplete(promise));
    return promise.future().await(30, TimeUnit.SECONDS);
  }

  /** A raw connection to an actor's call listener, as a client that bypasses the hub would open it. */
  private Connection connectToActor(NetClient netClient, ActorInfo info, ClusterAuth auth) throws Exception {
    return onContext(() -> Connection.connect(netClient, SocketAddress.inetSocketAddress(info.port(), info.host()),
      ClientHello.of(Role.Client, "intruder", auth).withTarget(info.id()).withTimeout(3_000)));
  }

  @Test
  void withoutTheTokenNothingIsReachableNeitherTheHubNorAnActor(Vertx vertx) throws Exception {
    this.vertx = vertx;
    cluster.start(vertx);
    // An agent in a process of its own, given the token through SPOKE_TOKEN (and a token file).
    cluster.startAgentProcess("guarded", Map.of(SecurityOptions.ENV_TOKEN, TestCluster.TOKEN), "--gpus", "0");
    SpokeClient member = cluster.client();
    ActorHandle actor = cluster.spawn(member, "Echo", "guarded-echo", new SpawnOptions().setNode("guarded"));
    assertThat(await(actor.call(TestActors.HELLO, "member", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, member!");

    SpokeClient stranger = cluster.closeAfterTest(SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(cluster.hubPort())));
    assertThatThrownBy(() -> await(stranger.status()))
      .isInstanceOf(AuthenticationException.class)
      .hasMessageContaining("requires the cluster token, and this process has none");
    SpokeClient impostor = cluster.closeAfterTest(SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(cluster.hubPort())
      .setSecurity(new SecurityOptions().setToken("guessed-token-0123456789"))));
    assertThatThrownBy(() -> await(impostor.spawn("Echo", "never")))
      .isInstanceOf(AuthenticationException.class)
      .hasMessageContaining("hub refused the connection: the cluster token differs");

    // The actor host got the token from its agent, and checks it itself.
    NetClient netClient = vertx.createNetClient();
    assertThatThrownBy(() -> connectToActor(netClient, actor.info(), ClusterAuth.NONE))
      .isInstanceOf(AuthenticationException.class)
      .hasMessageContaining(actor.info().host() + ":" + actor.info().port() + " requires the cluster token");
    assertThatThrownBy(() -> connectToActor(netClient, actor.info(), ClusterAuth.of("guessed-token-0123456789".getBytes())))
      .isInstanceOf(AuthenticationException.class)
      .hasMessageContaining("actor guarded-echo refused the connection: the cluster token differs");
    Connection direct = connectToActor(netClient, actor.info(), ClusterAuth.of(TestCluster.TOKEN.getBytes(StandardCharsets.UTF_8)));
    assertThat(onContext(() -> direct.call(TestActors.HELLO, "direct", Serializers.STRING, Serializers.STRING, 5_000)))
      .isEqualTo("Hello, direct!");
    onContext(direct::close);

    // The token reached the actor host on its standard input: not in its environment (which its own children
    // would inherit), although the agent had it in its own, and not on its command line.
    long pid = actor.info().pid();
    String environ = Files.readString(Paths.get("/proc/" + pid + "/environ"), StandardCharsets.ISO_8859_1);
    String cmdline = Files.readString(Paths.get("/proc/" + pid + "/cmdline"), StandardCharsets.ISO_8859_1);
    assertThat(environ).contains("SPOKE_ACTOR_ID=guarded-echo").doesNotContain(TestCluster.TOKEN);
    assertThat(cmdline).contains("ActorHostMain").doesNotContain(TestCluster.TOKEN);
    assertThat(await(actor.call(TestActors.HELLO, "member", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, member!");
  }

  @Test
  void serversRefuseToListenBeyondLoopbackWithoutATokenUnlessToldItIsIntended(Vertx vertx) throws Exception {
    this.vertx = vertx;
    assertThatThrownBy(() -> vertx.deployVerticle(new HubVerticle(new HubOptions().setHost("0.0.0.0").setPort(0)))
      .await(30, TimeUnit.SECONDS))
      .isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("the hub would serve 0.0.0.0 without a cluster token")
      .hasMessageContaining("--insecure");
    HubVerticle insecure = new HubVerticle(new HubOptions().setHost("0.0.0.0").setPort(0)
      .setSecurity(new SecurityOptions().setInsecure(true)));
    String id = vertx.deployVerticle(insecure).await(30, TimeUnit.SECONDS);
    assertThat(insecure.actualPort()).isPositive();
    vertx.undeploy(id).await(30, TimeUnit.SECONDS);
    assertThatThrownBy(() -> vertx.deployVerticle(new AgentVerticle(new AgentOptions().setHubHost("10.213.99.1").setGpus(0)
      .setLogDir(Files.createTempDirectory("spoke-sec").toString()))).await(30, TimeUnit.SECONDS))
      .isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("the agent would serve actors reachable from the hub's network (10.213.99.1) without a cluster token");
    Path shortToken = Files.createTempFile("spoke-token", "");
    Files.writeString(shortToken, "short\n");
    assertThatThrownBy(() -> new SecurityOptions().setTokenFile(shortToken.toString()).resolveToken())
      .hasMessageContaining("holds a token of 5 characters; a cluster token needs at least 16");
  }

  @Test
  void everySocketCanRunOverTls(Vertx vertx) throws Exception {
    this.vertx = vertx;
    Path dir = Files.createTempDirectory("spoke-tls");
    Path[] cert = selfSigned(dir, "cluster");
    SecurityOptions tls = new SecurityOptions().setTlsCert(cert[0].toString()).setTlsKey(cert[1].toString());
    cluster.start(vertx, new HubOptions().setSecurity(new SecurityOptions(tls)).setHttpPort(0));
    cluster.startAgent(new AgentOptions().setNodeId("tls").setGpus(0).setSecurity(new SecurityOptions(tls)));
    SpokeClient client = cluster.client(new SpokeClientOptions().setSecurity(new SecurityOptions().setTlsCa(cert[0].toString())));
    ActorHandle actor = cluster.spawn(client, "Echo", "tls-echo");
    assertThat(await(actor.call(TestActors.HELLO, "tls", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, tls!");

    // The actor's own listener speaks TLS: a plain connection gets nothing, a TLS one with the token is served.
    byte[] token = TestCluster.TOKEN.getBytes(StandardCharsets.UTF_8);
    NetClient plain = vertx.createNetClient();
    assertThatThrownBy(() -> connectToActor(plain, actor.info(), ClusterAuth.of(token)))
      .isInstanceOfAny(SpokeTimeoutException.class, UnavailableException.class);
    NetClient trusting = vertx.createNetClient(new SecurityOptions().setTlsCa(cert[0].toString()).applyTo(new NetClientOptions()));
    Connection overTls = connectToActor(trusting, actor.info(), ClusterAuth.of(token));
    assertThat(onContext(() -> overTls.call(TestActors.HELLO, "raw tls", Serializers.STRING, Serializers.STRING, 5_000)))
      .isEqualTo("Hello, raw tls!");
    onContext(overTls::close);

    // A client that does not trust the cluster's certificate does not get through, token or not.
    Path[] other = selfSigned(dir, "other");
    SpokeClient distrusting = cluster.client(new SpokeClientOptions().setSecurity(new SecurityOptions().setTlsCa(other[0].toString())));
    assertThatThrownBy(() -> await(distrusting.status())).isInstanceOf(UnavailableException.class);
    SpokeClient plainClient = cluster.client(new SpokeClientOptions().setConnectTimeout(2_000));
    assertThatThrownBy(() -> await(plainClient.status())).isInstanceOfAny(SpokeTimeoutException.class, UnavailableException.class);
    assertThat(await(actor.call(TestActors.HELLO, "still", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, still!");

    // The status page and /metrics are on HTTPS with the same certificate: served to a client that trusts it, with the
    // token; a plain HTTP request to that port gets no answer.
    String url = cluster.hub().httpUrl();
    assertThat(url).startsWith("https://127.0.0.1:");
    java.security.KeyStore trust = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
    trust.load(null, null);
    try (java.io.InputStream in = Files.newInputStream(cert[0])) {
      trust.setCertificateEntry("cluster", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    javax.net.ssl.TrustManagerFactory factory = javax.net.ssl.TrustManagerFactory.getInstance(
      javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
    ssl.init(null, factory.getTrustManagers(), null);
    java.net.http.HttpClient https = java.net.http.HttpClient.newBuilder().sslContext(ssl).version(java.net.http.HttpClient.Version.HTTP_1_1)
      .build();
    java.net.http.HttpResponse<String> metrics = https.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "metrics"))
      .header("Authorization", "Bearer " + TestCluster.TOKEN).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("spoke_hub_nodes{state=\"alive\"} 1.0");
    assertThatThrownBy(() -> io.spoke.vertx.testkit.Http.get(url.replace("https:", "http:") + "metrics", TestCluster.TOKEN))
      .isInstanceOf(java.io.IOException.class);
  }

  /**
   * A self-signed certificate for 127.0.0.1 and localhost made with the JDK's keytool, written as PEM:
   * {certificate, PKCS#8 private key}.
   */
  static Path[] selfSigned(Path dir, String name) throws Exception {
    Path store = dir.resolve(name + ".p12");
    String keytool = Paths.get(System.getProperty("java.home"), "bin", "keytool").toString();
    Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
      "-dname", "CN=spoke-" + name, "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-keystore", store.toString(), "-storetype", "PKCS12",
      "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
    processes.track(p.pid());
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("keytool: %s", output).isZero();
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(store)) {
      keyStore.load(in, "changeit".toCharArray());
    }
    Base64.Encoder pem = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
    Path cert = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    Files.writeString(cert, "-----BEGIN CERTIFICATE-----\n" + pem.encodeToString(keyStore.getCertificate(name).getEncoded())
      + "\n-----END CERTIFICATE-----\n");
    Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n" + pem.encodeToString(keyStore.getKey(name, "changeit".toCharArray()).getEncoded())
      + "\n-----END PRIVATE KEY-----\n");
    return new Path[] {cert, key};
  }
}
