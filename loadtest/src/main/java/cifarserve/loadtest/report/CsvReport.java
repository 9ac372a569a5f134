package cifarserve.loadtest.report;

import cifarserve.loadtest.generator.RequestLog;
import cifarserve.loadtest.run.RunResult;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** CSV output: one row per interval ({@code --csv}) or one row per request ({@code --csv-requests}). */
public final class CsvReport {
  public static final String INTERVAL_HEADER = "t_start_s,t_end_s,phase,responses,failures,throughput_rps,"
      + "latency_mean_ms,latency_p50_ms,latency_p90_ms,latency_p99_ms,latency_max_ms,cpu_percent,memory_bytes,heap_bytes";
  public static final String REQUEST_HEADER = "start_ms,intended_ms,latency_ms,corrected_latency_ms,status,outcome,body_bytes";

  private CsvReport() {
  }

  public static void writeIntervals(RunResult r, Path file) throws IOException {
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write(INTERVAL_HEADER);
      w.newLine();
      for (Timeline.Row row : Timeline.rows(r)) {
        w.write(String.join(",", num(row.startSeconds()), num(row.endSeconds()), row.phase(),
            Long.toString(row.responses()), Long.toString(row.failures()), num(row.throughput()),
            num(row.latencyMean()), num(row.latencyP50()), num(row.latencyP90()), num(row.latencyP99()),
            num(row.latencyMax()), num(row.cpuPercent()), integer(row.memoryBytes()), integer(row.heapBytes())));
        w.newLine();
      }
    }
  }

  public static void writeRequests(RunResult r, Path file) throws IOException {
    RequestLog log = r.measured().requestLog();
    if (log == null) {
      throw new IllegalStateException("per-request rows were not kept");
    }
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write(REQUEST_HEADER);
      w.newLine();
      for (int i = 0; i < log.size(); i++) {
        long latency = log.latencyMicros(i);
        long corrected = latency < 0 ? -1 : latency + (log.startMicros(i) - log.intendedMicros(i));
        w.write(String.join(",", micros(log.startMicros(i)), micros(log.intendedMicros(i)),
            latency < 0 ? "" : micros(latency), corrected < 0 ? "" : micros(corrected),
            Integer.toString(log.status(i)), log.outcome(i).name(), Integer.toString(log.bytes(i))));
        w.newLine();
      }
    }
  }

  private static String micros(long micros) {
    return String.format(Locale.ROOT, "%.3f", micros / 1000.0);
  }

  private static String num(Double v) {
    return v == null || v.isNaN() ? "" : String.format(Locale.ROOT, "%.3f", v);
  }

  private static String integer(Double v) {
    return v == null ? "" : Long.toString(Math.round(v));
  }
}
