package cifarserve.loadtest.cli;

import cifarserve.loadtest.report.CsvReport;
import cifarserve.loadtest.report.HtmlReport;
import cifarserve.loadtest.report.JsonReport;
import cifarserve.loadtest.run.RunResult;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The report files a run writes besides the text summary. */
final class OutputOptions {
  @Option(names = "--json", paramLabel = "FILE", description = "Write the full result as JSON.")
  Path json;

  @Option(names = "--csv", paramLabel = "FILE", description = "Write one CSV row per interval (latency, throughput, CPU, memory).")
  Path csv;

  @Option(names = "--csv-requests", paramLabel = "FILE", description = "Write one CSV row per measured request.")
  Path csvRequests;

  @Option(names = "--report", paramLabel = "DIR", description = "Write DIR/index.html with plots (PNG, also embedded).")
  Path report;

  void write(RunResult result) throws IOException {
    if (json != null) {
      JsonReport.write(result, json);
    }
    if (csv != null) {
      CsvReport.writeIntervals(result, csv);
    }
    if (csvRequests != null) {
      CsvReport.writeRequests(result, csvRequests);
    }
    if (report != null) {
      HtmlReport.write(result, report);
    }
  }
}
