package cifarserve.loadtest.cli;

import cifarserve.common.Durations;
import cifarserve.loadtest.generator.PhasePlan;
import cifarserve.loadtest.generator.RequestSpec;
import cifarserve.loadtest.payload.PayloadSource;
import cifarserve.loadtest.resources.ProcessProbe;
import cifarserve.loadtest.report.TextSummary;
import cifarserve.loadtest.run.ClientTransport;
import cifarserve.loadtest.run.LoadTestRun;
import cifarserve.loadtest.run.LoadTestSettings;
import cifarserve.loadtest.run.RunResult;
import io.vertx.core.http.HttpMethod;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import cifarserve.loadtest.experiment.ColdStartCommand;
import cifarserve.loadtest.experiment.ExperimentCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The load test command line: ApacheBench's options (so {@code ab -n 10 -c 2 -s 300 URL} runs
 * unchanged) plus the open model, warm-up, payloads, resource sampling and report outputs.
 * Exit status: 0 done, 1 more failures than --max-failures, 2 bad usage, 3 the run could not be done.
 */
@Command(name = "cifar-loadtest", mixinStandardHelpOptions = true, version = "cifar-loadtest 1.0",
    sortOptions = false, subcommands = {ServeHelloCommand.class, ExperimentCommand.class, ColdStartCommand.class},
    description = {"ab-compatible HTTP load generator on Vert.x (non-blocking): closed model (-n/-c, like ab),",
        "open model (--rate, coordinated-omission corrected, like wrk2), target CPU/memory sampling and reports."},
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {"0:run finished within --max-failures", "1:failed requests exceeded --max-failures",
        "2:invalid command line", "3:the run could not be done (docker inspect failed, report not writable, ...)"})
public final class LoadTestCommand implements Callable<Integer> {
  public static final int EXIT_FAILURE_BUDGET = 1;
  public static final int EXIT_RUN_ERROR = 3;

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "URL", description = "Target, e.g. http://127.0.0.1:8080/")
  String url;

  // ---- ab-compatible options
  @Option(names = "-n", paramLabel = "REQUESTS", description = "Requests to measure (ab; default 1 unless -t or --rate).")
  Long requests;

  @Option(names = "-c", paramLabel = "CONCURRENCY",
      description = "Connections / concurrent requests (ab; default 1, or 64 with --rate).")
  Integer concurrency;

  @Option(names = "-s", paramLabel = "SECONDS", defaultValue = "30",
      description = "Per-request timeout in seconds, decimals allowed (ab; default ${DEFAULT-VALUE}).")
  double timeoutSeconds;

  @Option(names = "-k", description = "Use HTTP keep-alive (ab). Without it, one connection per request, like ab.")
  boolean keepAlive;

  @Option(names = "-p", paramLabel = "FILE", description = "File to POST (ab); same as --body-file.")
  Path postFile;

  @Option(names = "-T", paramLabel = "TYPE", description = "Content-Type of the body (ab).")
  String contentType;

  @Option(names = "-m", paramLabel = "METHOD", description = "HTTP method (ab; default GET, or POST with a body).")
  String method;

  @Option(names = "-H", paramLabel = "HEADER", description = "Extra header 'Name: value' (ab; repeatable).")
  List<String> headers = new ArrayList<>();

  @Option(names = {"-t", "--duration"}, paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Measure for this long (ab's -t in seconds; also 500ms, 2m). With -n, whichever ends first.")
  Duration duration;

  @Option(names = "-q", description = "No progress bar (ab).")
  boolean quiet;

  @Option(names = {"-l", "-r"}, hidden = true,
      description = "ab's 'accept variable length' / 'do not exit on socket errors': always true here.")
  boolean abCompatibilityNoOp;

  // ---- beyond ab
  @Option(names = "--warmup", paramLabel = "N|D",
      description = "Warm-up excluded from all figures: a request count (100) or a duration (5s).")
  String warmup;

  @Option(names = "--rate", paramLabel = "R[/s]",
      description = "Open model: constant arrival rate; latency is also measured from each intended send time.")
  String rate;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "1",
      description = "Event loops sending requests (default ${DEFAULT-VALUE}; connections are split among them).")
  int threads;

  @Option(names = "--transport", paramLabel = "auto|io_uring|epoll|nio", defaultValue = "auto",
      description = "Network transport of the generator (default ${DEFAULT-VALUE}: io_uring, else epoll, else NIO).")
  String transport;

  @Option(names = "--interval", paramLabel = "D", defaultValue = "1s", converter = DurationConverter.class,
      description = "Width of per-interval rows and plots (default ${DEFAULT-VALUE}).")
  Duration interval;

  @Option(names = "--progress", paramLabel = "auto|always|never", defaultValue = "auto",
      description = "Progress bar on stderr after 3 s; auto = only on a terminal and not under CI (default ${DEFAULT-VALUE}).")
  String progress;

  @Option(names = "--max-failures", paramLabel = "N|P%",
      description = "Exit 1 when failed requests exceed this count (3) or share of finished requests (2.5%%). Failures: timeouts, connection errors, non-2xx, other.")
  String maxFailures;

  @Mixin
  PayloadOptions payload = new PayloadOptions();

  @Mixin
  SamplingOptions sampling = new SamplingOptions();

  @Mixin
  OutputOptions outputs = new OutputOptions();

  /** The configured picocli command line (used by Main and by tests). */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new LoadTestCommand());
    cl.setParameterExceptionHandler((ex, args) -> {
      ex.getCommandLine().getErr().println("cifar-loadtest: " + ex.getMessage() + " (see --help)");
      return CommandLine.ExitCode.USAGE;
    });
    cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      commandLine.getErr().println("cifar-loadtest: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
      return EXIT_RUN_ERROR;
    });
    return cl;
  }

  @Override
  public Integer call() throws Exception {
    if (url == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "Missing URL (try --help)");
    }
    FailureBudget budget;
    LoadTestSettings settings;
    try {
      budget = maxFailures == null ? null : FailureBudget.parse(maxFailures);
      settings = settings();
    } catch (IllegalArgumentException invalid) {
      // Bad values and contradictions are usage errors (exit 2), found before anything is sent.
      throw new CommandLine.ParameterException(spec.commandLine(), invalid.getMessage(), invalid);
    }
    for (Path out : new Path[] {outputs.json, outputs.csv, outputs.csvRequests}) {
      if (out != null) {
        LoadTestRun.checkWritable(out);
      }
    }
    RunResult result = new LoadTestRun(settings, System.err).execute();
    PrintWriter out = spec.commandLine().getOut();
    TextSummary.print(result, out);
    outputs.write(result);
    if (budget != null && budget.exceededBy(result.measured().failures(), result.measured().finished())) {
      spec.commandLine().getErr().printf(Locale.ROOT, "cifar-loadtest: %d failed of %d (%.2f%%) exceeds --max-failures %s%n",
          result.measured().failures(), result.measured().finished(), result.failurePercent(), budget);
      return EXIT_FAILURE_BUDGET;
    }
    return 0;
  }

  /** Turns the options into settings, rejecting contradictions before anything is sent. */
  LoadTestSettings settings() throws Exception {
    URI target = URI.create(url);
    if (target.getScheme() == null || !target.getScheme().matches("(?i)https?") || target.getHost() == null) {
      throw new IllegalArgumentException("URL must be http://host[:port]/path, got '" + url + "'");
    }
    double ratePerSecond = rate == null ? 0 : parseRate(rate);
    if (sampling.pid != null) {
      ProcessProbe.checkExists(sampling.pid);
    }
    Duration measureFor = duration;
    if (measureFor != null && measureFor.isZero()) {
      throw new IllegalArgumentException("-t/--duration must be > 0");
    }
    long limit;
    if (requests != null) {
      if (requests < 1) {
        throw new IllegalArgumentException("-n must be >= 1");
      }
      limit = requests;
    } else if (measureFor != null) {
      limit = PhasePlan.UNLIMITED;
    } else if (ratePerSecond > 0) {
      throw new IllegalArgumentException("--rate needs --duration (or -t, or -n arrivals)");
    } else {
      limit = 1; // ab's default
    }
    int connections = concurrency != null ? concurrency : ratePerSecond > 0 ? 64 : 1;
    if (connections < 1 || connections > 20_000) {
      throw new IllegalArgumentException("-c must be 1..20000");
    }
    if (!(timeoutSeconds > 0)) {
      throw new IllegalArgumentException("-s must be > 0");
    }
    if (threads < 1 || threads > 64) {
      throw new IllegalArgumentException("--threads must be 1..64");
    }

    long warmupRequests = 0;
    Duration warmupDuration = null;
    if (warmup != null) {
      if (warmup.trim().matches("\\d+")) {
        warmupRequests = Long.parseLong(warmup.trim());
      } else {
        warmupDuration = Durations.parse(warmup);
      }
    }

    PayloadSource payloads = payload.source(postFile, contentType);
    HttpMethod httpMethod = method != null ? HttpMethod.valueOf(method.toUpperCase(Locale.ROOT))
        : payloads.get(0).hasBody() ? HttpMethod.POST : HttpMethod.GET;
    List<Map.Entry<String, String>> headerList = new ArrayList<>();
    for (String h : headers) {
      int colon = h.indexOf(':');
      if (colon < 1) {
        throw new IllegalArgumentException("-H needs 'Name: value', got '" + h + "'");
      }
      headerList.add(new AbstractMap.SimpleImmutableEntry<>(h.substring(0, colon).trim(), h.substring(colon + 1).trim()));
    }
    RequestSpec request = new RequestSpec(target, httpMethod, List.copyOf(headerList),
        Math.max(1, Math.round(timeoutSeconds * 1000)), keepAlive, payloads);

    URI scrape = sampling.metricsUrl;
    if (scrape == null && sampling.metrics) {
      scrape = new URI(target.getScheme(), null, target.getHost(), target.getPort(), "/metrics", null, null);
    }
    Duration intervalDuration = interval;
    Duration samplingEvery = sampling.sampleInterval;
    if (intervalDuration.toMillis() < 10 || samplingEvery.toMillis() < 10) {
      throw new IllegalArgumentException("--interval and --sample-interval must be >= 10ms");
    }
    boolean showProgress = switch (progress.toLowerCase(Locale.ROOT)) {
      case "always" -> true;
      case "never" -> false;
      case "auto" -> !quiet && System.console() != null && System.getenv("CI") == null;
      default -> throw new IllegalArgumentException("--progress takes auto, always or never");
    };
    return new LoadTestSettings(request, connections, threads, limit, measureFor, ratePerSecond, warmupRequests,
        warmupDuration, intervalDuration, outputs.csvRequests != null, sampling.pid, sampling.cgroup, sampling.container,
        scrape, samplingEvery, sampling.idleBefore, sampling.idleAfter,
        showProgress && !quiet,
        ClientTransport.parse(transport));
  }

  static double parseRate(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.endsWith("/s")) {
      t = t.substring(0, t.length() - 2);
    }
    double r;
    try {
      r = Double.parseDouble(t);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--rate takes requests per second, e.g. 200 or 200/s; got '" + text + "'");
    }
    if (!(r > 0) || r > 1_000_000) {
      throw new IllegalArgumentException("--rate must be in (0, 1000000]");
    }
    return r;
  }
}
