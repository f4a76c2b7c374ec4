// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.examples.process.TorchGang;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The README's torch.distributed example, on two real agents: four Python ranks all-reduce through env://. */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class TorchGangIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  @Test
  void fourRanksOnTwoNodesAllReduce(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setNodeId("t1").setGpus(2));
    cluster.startAgent(new AgentOptions().setNodeId("t2").setGpus(2));
    List<String> lines = await(TorchGang.run(cluster.client(), 2, 2, "/usr/bin/python3"));
    assertThat(lines).containsExactly("rank 0 sum 10.0", "rank 1 sum 10.0", "rank 2 sum 10.0", "rank 3 sum 10.0");
  }
}
