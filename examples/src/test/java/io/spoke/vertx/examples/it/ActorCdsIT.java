// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.examples.hello.MyActor;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.Await;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Class-data sharing of actor hosts, on the distribution's class path (jar files only, as {@code ./spoke} runs
 * it): the first actor host writes the archive at exit, the agent publishes it, and later actor hosts start from
 * it without the JVM rejecting it.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class ActorCdsIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  @Test
  void laterActorHostsStartFromTheArchiveTheFirstOneWrote(Vertx vertx) throws Exception {
    cluster.start(vertx);
    String classpath = distributionClasspath(Files.createTempDirectory("spoke-cds-dist"));
    AgentOptions agentOptions = new AgentOptions().setGpus(0).setActorClasspath(classpath).setWarmPool(0);
    AgentVerticle agent = cluster.startAgent(agentOptions);
    SpokeClient client = cluster.client();
    ActorHandle trainer = await(client.spawn("MyActor", "trainer"));
    processes.track(trainer.info().pid());
    assertThat(commandLine(trainer.info().pid())).anyMatch(arg -> arg.startsWith("-XX:ArchiveClassesAtExit="));
    assertThat(await(trainer.call(MyActor.HELLO, null, Serializers.VOID, Serializers.STRING))).isEqualTo("Hello from Spoke!");
    await(trainer.stop());

    Path archives = cluster.logDir().resolve(".spoke-cds");
    Await.until("archive published in " + archives, () -> archive(archives) != null);
    Path archive = archive(archives);
    assertThat(Files.size(archive)).isGreaterThan(1_000_000);
    // Writing the archive lists every class left out as a JVM warning: not in the actor's log.
    assertThat(await(client.readLog("trainer", 0, 1 << 20)).data().toString()).doesNotContain("[cds]");

    ActorHandle second = await(client.spawn("MyActor", "second"));
    processes.track(second.info().pid());
    assertThat(commandLine(second.info().pid())).contains("-XX:SharedArchiveFile=" + archive);
    assertThat(await(second.call(MyActor.HELLO, null, Serializers.VOID, Serializers.STRING))).isEqualTo("Hello from Spoke!");
    // A spawn that chooses its own CDS settings gets none of the agent's.
    ActorHandle own = await(client.spawn("MyActor", "own", new SpawnOptions().setJvmOptions(List.of("-Xshare:auto"))));
    processes.track(own.info().pid());
    assertThat(commandLine(own.info().pid())).noneMatch(arg -> arg.startsWith("-XX:SharedArchiveFile") || arg.startsWith("-XX:ArchiveClasses"));
    await(own.stop());
    await(second.stop());
    // The JVM says so in the actor's log when it cannot map an archive; it could.
    String log = Files.readString(Paths.get(second.info().logFile()));
    assertThat(log).doesNotContain("[cds]").doesNotContain("shared archive");

    // The distribution is upgraded in place (same paths, new jars): the JVM would refuse the old archive, so the
    // restarted agent trains a new one instead of handing every actor host an archive it cannot map.
    cluster.stopAgent(agent);
    Path jar = Paths.get(classpath.split(File.pathSeparator)[0]);
    Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));
    cluster.startAgent(new AgentOptions(agentOptions));
    ActorHandle third = await(client.spawn("MyActor", "third"));
    processes.track(third.info().pid());
    assertThat(commandLine(third.info().pid())).anyMatch(arg -> arg.startsWith("-XX:ArchiveClassesAtExit="))
      .noneMatch(arg -> arg.startsWith("-XX:SharedArchiveFile"));
    assertThat(await(third.call(MyActor.HELLO, null, Serializers.VOID, Serializers.STRING))).isEqualTo("Hello from Spoke!");
    await(third.stop());
    assertThat(Files.readString(Paths.get(third.info().logFile()))).doesNotContain("shared archive");
    // Its archive replaces the outdated one, which no JVM could use any more.
    Await.until("the outdated archive " + archive + " replaced", () -> !archives(archives).contains(archive));
    assertThat(archives(archives)).hasSize(1).doesNotContain(archive);
  }

  private static List<Path> archives(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".jsa")).collect(Collectors.toList());
    }
  }

  private static Path archive(Path dir) throws Exception {
    if (!Files.isDirectory(dir)) {
      return null;
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".jsa")).findFirst().orElse(null);
    }
  }

  /** The examples jar and its dependencies, as ./spoke runs them, copied into {@code dir} (the test touches them). */
  private static String distributionClasspath(Path dir) throws Exception {
    List<Path> entries = new ArrayList<>();
    try (Stream<Path> jars = Files.list(Paths.get("target"))) {
      jars.filter(f -> f.getFileName().toString().matches("spoke-vertx-examples-.*[0-9T]\\.jar")).forEach(entries::add);
    }
    try (Stream<Path> jars = Files.list(Paths.get("target", "lib"))) {
      entries.addAll(jars.sorted().collect(Collectors.toList()));
    }
    assertThat(entries.get(0).toString()).contains("spoke-vertx-examples");
    List<String> copies = new ArrayList<>();
    for (Path jar : entries) {
      Path copy = dir.resolve(jar.getFileName());
      Files.copy(jar, copy, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
      copies.add(copy.toAbsolutePath().toString());
    }
    return String.join(File.pathSeparator, copies);
  }

  private static List<String> commandLine(long pid) throws Exception {
    byte[] raw = Files.readAllBytes(Paths.get("/proc/" + pid + "/cmdline"));
    return List.of(new String(raw, StandardCharsets.UTF_8).split("\u0000"));
  }
}
