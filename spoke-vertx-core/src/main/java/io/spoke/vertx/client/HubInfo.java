// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * One hub of a highly available control plane (hubs on etcd): where it listens ({@code host:port}, as it advertises
 * itself) and whether it leads; the others stand by.
 */
public record HubInfo(String address, boolean leader) {

  public HubInfo {
    Objects.requireNonNull(address, "address");
  }

  public JsonObject toJson() {
    return new JsonObject().put("address", address).put("role", leader ? "leader" : "standby");
  }
}
