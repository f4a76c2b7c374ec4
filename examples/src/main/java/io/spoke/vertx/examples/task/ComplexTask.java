// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.task;

import java.util.List;

/**
 * The structured request of Spoke's RDMA example, {@code ComplexTask task = {666, "ZeroCopyCheck", {1.0, 2.0}}}:
 * a record, which the generated codec writes field by field straight into the request frame, with no
 * reflection and no intermediate object.
 */
public record ComplexTask(int id, String name, List<Double> values) {
}
