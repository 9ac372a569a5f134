package cifarserve.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;

/** The registry our own meters go to: Vert.x Micrometer's (scraped at /metrics), or a local one. */
public final class ServiceMetrics {
  private static final MeterRegistry FALLBACK = new SimpleMeterRegistry();

  private ServiceMetrics() {
  }

  public static MeterRegistry registry() {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    return registry != null ? registry : FALLBACK;
  }
}
