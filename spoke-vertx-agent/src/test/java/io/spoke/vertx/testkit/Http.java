// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.testkit;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * HTTP for tests of the hub's and agents' web side: requests with or without the cluster token, and
 * {@code /metrics} parsed by Prometheus's own text parser (the Python client's, Debian's python3-prometheus-client),
 * not by one written here.
 */
public final class Http {

  /** One sample of a scrape: a metric's name, labels and value. */
  public record Sample(String name, Map<String, String> labels, double value) {
  }

  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
    .followRedirects(HttpClient.Redirect.NEVER).build();

  private Http() {
  }

  /** GET {@code url}, with {@code Authorization: Bearer token} unless {@code token} is null. */
  public static HttpResponse<String> get(String url, String token) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET();
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  public static HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    return CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** Scrapes {@code base}/metrics and parses it with {@code prometheus_client.parser}. */
  public static List<Sample> scrape(String base, String token) throws Exception {
    HttpResponse<String> response = get(base + "metrics", token);
    if (response.statusCode() != 200) {
      throw new AssertionError("GET " + base + "metrics answered " + response.statusCode() + ": " + response.body());
    }
    if (!response.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4")) {
      throw new AssertionError("not Prometheus text: " + response.headers().map());
    }
    return parse(response.body());
  }

  /** Parses Prometheus text with Prometheus's Python parser; any malformed line fails the parse. */
  public static List<Sample> parse(String text) throws Exception {
    Path file = Files.createTempFile("spoke-metrics", ".txt");
    try {
      Files.writeString(file, text);
      Process python = new ProcessBuilder("/usr/bin/python3", "-c", String.join("\n",
        "import json, sys",
        "from prometheus_client.parser import text_string_to_metric_families",
        "for family in text_string_to_metric_families(open(sys.argv[1]).read()):",
        "    for s in family.samples:",
        "        print(json.dumps({'name': s.name, 'labels': s.labels, 'value': s.value}))"), file.toString())
        .redirectErrorStream(true).start();
      String out = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!python.waitFor(30, TimeUnit.SECONDS) || python.exitValue() != 0) {
        throw new AssertionError("Prometheus's parser refused the scrape: " + out);
      }
      List<Sample> samples = new ArrayList<>();
      for (String line : out.split("\n")) {
        if (line.isBlank()) {
          continue;
        }
        JsonObject json = new JsonObject(line);
        Map<String, String> labels = new java.util.TreeMap<>();
        json.getJsonObject("labels").forEach(e -> labels.put(e.getKey(), (String) e.getValue()));
        samples.add(new Sample(json.getString("name"), labels, json.getDouble("value")));
      }
      return samples;
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** The value of the one sample named {@code name} with exactly these labels (key, value, ...), or NaN if none. */
  public static double value(List<Sample> samples, String name, String... labels) {
    Map<String, String> wanted = new java.util.TreeMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      wanted.put(labels[i], labels[i + 1]);
    }
    return samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(wanted)).mapToDouble(Sample::value).findFirst()
      .orElse(Double.NaN);
  }

  /** The sum of the samples named {@code name} whose labels include these (key, value, ...). */
  public static double sum(List<Sample> samples, String name, String... labels) {
    return samples.stream().filter(s -> s.name().equals(name)).filter(s -> {
      for (int i = 0; i < labels.length; i += 2) {
        if (!labels[i + 1].equals(s.labels().get(labels[i]))) {
          return false;
        }
      }
      return true;
    }).mapToDouble(Sample::value).sum();
  }
}
