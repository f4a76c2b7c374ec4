// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.EtcdCluster;
import io.spoke.vertx.test.ProcessCleanup;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A hub on an etcd that speaks only TLS, asks for a client certificate and has authentication on: given the CA,
 * its certificate and a user whose role may write only under the cluster's prefix, it is elected and writes there.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class EtcdSecurityIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  private EtcdCluster etcd;

  @AfterEach
  void stop() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void aHubWithAnotherClusterTokenRefusesToLeadTheStateItFindsAndSaysWhy(Vertx vertx) throws Exception {
    assumeTrue(EtcdCluster.available(), "etcd is not installed (apt-get install etcd-server etcd-client)");
    Path dir = Files.createTempDirectory("spoke-etcd-token");
    etcd = EtcdCluster.start(processes::track, dir, 1);
    Path ours = dir.resolve("ours.token");
    Path theirs = dir.resolve("theirs.token");
    Files.writeString(ours, "a-cluster-token-of-32-characters-or-more-0001\n");
    Files.writeString(theirs, "another-cluster-token-of-32-characters-0002\n");
    HubOptions options = new HubOptions().setPort(0).setHttpPort(0).setEtcd(List.of(etcd.endpoint(0))).setEtcdPrefix("/spoke/tokens")
      .setLeaseTtl(2_000);
    HubVerticle first = new HubVerticle(new HubOptions(options).setSecurity(new SecurityOptions().setTokenFile(ours.toString())));
    vertx.deployVerticle(first).await(30, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!first.isLeader() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(first.isLeader()).isTrue();
    vertx.undeploy(first.deploymentID()).await(30, TimeUnit.SECONDS);

    HubVerticle other = new HubVerticle(new HubOptions(options).setSecurity(new SecurityOptions().setTokenFile(theirs.toString())));
    vertx.deployVerticle(other).await(30, TimeUnit.SECONDS);
    String ready = "";
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!ready.contains("another cluster token") && System.nanoTime() < deadline) {
      HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(other.httpUrl() + "/ready"))
        .header("Authorization", "Bearer another-cluster-token-of-32-characters-0002").build(), HttpResponse.BodyHandlers.ofString());
      ready = response.statusCode() + " " + response.body();
      Thread.sleep(50);
    }
    assertThat(ready).startsWith("503").contains("refused to lead").contains("another cluster token");
    assertThat(other.isLeader()).isFalse();
    vertx.undeploy(other.deploymentID()).await(30, TimeUnit.SECONDS);
  }

  @Test
  void aHubGivenTheCaItsCertificateAndAUserLeadsAnEtcdThatRequiresAllThree(Vertx vertx) throws Exception {
    assumeTrue(EtcdCluster.available(), "etcd is not installed (apt-get install etcd-server etcd-client)");
    Path dir = Files.createTempDirectory("spoke-etcd-tls");
    EtcdCluster.Tls tls = EtcdCluster.Tls.make(dir);
    etcd = EtcdCluster.start(processes::track, dir, 1, tls);
    etcd.etcdctl("user", "add", "root", "--new-user-password=root-secret");
    etcd.etcdctl("user", "grant-role", "root", "root");
    etcd.etcdctl("role", "add", "spoke-hub");
    etcd.etcdctl("role", "grant-permission", "spoke-hub", "--prefix=true", "readwrite", "/spoke/secure/");
    etcd.etcdctl("user", "add", "spoke", "--new-user-password=hub-secret");
    etcd.etcdctl("user", "grant-role", "spoke", "spoke-hub");
    etcd.etcdctl("auth", "enable");
    etcd.etcdctlFlags("--user", "root:root-secret");
    Path password = dir.resolve("etcd.password");
    Files.writeString(password, "hub-secret\n");

    HubOptions options = new HubOptions().setPort(0).setHttpPort(-1).setEtcd(List.of(etcd.endpoint(0))).setEtcdPrefix("/spoke/secure")
      .setLeaseTtl(2_000).setEtcdUser("spoke").setEtcdPasswordFile(password.toString()).setEtcdCa(tls.ca().toString())
      .setEtcdCert(tls.clientCert().toString()).setEtcdKey(tls.clientKey().toString());
    HubVerticle hub = new HubVerticle(options);
    vertx.deployVerticle(hub).await(30, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!hub.isLeader() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(hub.isLeader()).as("elected on the secured etcd").isTrue();
    assertThat(etcd.etcdctl("get", "--prefix", "--keys-only", "/spoke/secure/")).contains("/spoke/secure/leader", "/spoke/secure/cluster");
    vertx.undeploy(hub.deploymentID()).await(30, TimeUnit.SECONDS);
    assertThat(etcd.etcdctl("get", "--prefix", "--keys-only", "/spoke/secure/leader")).as("resigned as it stopped").doesNotContain("leader");

    // What cannot work is said at once.
    assertThatThrownBy(() -> vertx.deployVerticle(new HubVerticle(new HubOptions(options).setEtcdKey(null))).await(30, TimeUnit.SECONDS))
      .hasMessageContaining("etcdCert and etcdKey go together");
    assertThatThrownBy(() -> vertx.deployVerticle(new HubVerticle(new HubOptions(options).setEtcdPasswordFile(dir.resolve("none")
      .toString()))).await(30, TimeUnit.SECONDS)).hasMessageContaining("none");
  }
}
