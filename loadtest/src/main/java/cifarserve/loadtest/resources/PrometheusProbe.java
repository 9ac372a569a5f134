package cifarserve.loadtest.resources;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.WebClient;
import java.net.URI;

/**
 * Scrapes the target's Prometheus text endpoint (Micrometer names): {@code process_cpu_usage} (0..1 of
 * all CPUs, scaled by {@code system_cpu_count} to "100 % = one core" like top), the sum of
 * {@code jvm_memory_used_bytes{area="heap"}}, and {@code process_resident_memory_bytes} when present.
 */
public final class PrometheusProbe implements ResourceProbe {
  private final WebClient client;
  private final URI url;
  private final long timeoutMillis;

  public PrometheusProbe(WebClient client, URI url, long timeoutMillis) {
    this.client = client;
    this.url = url;
    this.timeoutMillis = timeoutMillis;
  }

  @Override
  public String describe() {
    return "metrics " + url;
  }

  @Override
  public Future<ResourceReading> read() {
    return client.getAbs(url.toString()).timeout(timeoutMillis).send()
        .map(response -> {
          if (response.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + response.statusCode());
          }
          Buffer body = response.body();
          return parse(body == null ? "" : body.toString(), System.nanoTime());
        });
  }

  static ResourceReading parse(String text, long nanoTime) {
    Double cpuUsage = null;
    Double cpuCount = null;
    Double rss = null;
    double heap = 0;
    boolean sawHeap = false;
    for (String line : text.split("\n")) {
      if (line.isEmpty() || line.charAt(0) == '#') {
        continue;
      }
      int valueStart = line.lastIndexOf(' ');
      if (valueStart < 0) {
        continue;
      }
      String series = line.substring(0, valueStart).trim();
      String name = series.contains("{") ? series.substring(0, series.indexOf('{')) : series;
      double value;
      try {
        value = Double.parseDouble(line.substring(valueStart + 1).trim());
      } catch (NumberFormatException e) {
        continue; // e.g. a trailing timestamp format we do not handle
      }
      switch (name) {
        case "process_cpu_usage" -> cpuUsage = value;
        case "system_cpu_count" -> cpuCount = value;
        case "process_resident_memory_bytes" -> rss = value;
        case "jvm_memory_used_bytes" -> {
          if (series.contains("area=\"heap\"")) {
            heap += value;
            sawHeap = true;
          }
        }
        default -> {
          // not one of ours
        }
      }
    }
    Double cpuPercent = cpuUsage == null || cpuUsage < 0 ? null : cpuUsage * (cpuCount == null ? 1 : cpuCount) * 100;
    return new ResourceReading(nanoTime, null, cpuPercent, rss == null ? null : rss.longValue(),
        sawHeap ? (long) heap : null);
  }
}
