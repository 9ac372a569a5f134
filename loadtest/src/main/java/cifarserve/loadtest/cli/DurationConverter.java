package cifarserve.loadtest.cli;

import cifarserve.common.Durations;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;

/** Duration options take the service's grammar ({@link Durations}: 500ms, 10s, 2m, 1m30s, bare seconds). */
public final class DurationConverter implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    return Durations.parse(value);
  }
}
