package cifarserve.loadtest.run;

import cifarserve.loadtest.generator.LoadGeneratorVerticle;
import cifarserve.loadtest.generator.RequestSpec;
import cifarserve.loadtest.hello.HelloServerVerticle;
import cifarserve.loadtest.payload.PayloadSource;
import java.net.URI;
import cifarserve.loadtest.generator.PhasePlan;
import cifarserve.loadtest.generator.RunRecorder;
import cifarserve.loadtest.resources.CgroupProbe;
import cifarserve.loadtest.resources.DockerContainers;
import cifarserve.loadtest.resources.ProcessProbe;
import cifarserve.loadtest.resources.PrometheusProbe;
import cifarserve.loadtest.resources.ResourceProbe;
import cifarserve.loadtest.resources.ResourceSample;
import cifarserve.loadtest.resources.ResourceSamplerVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives one run from the calling (non-Vert.x) thread: idle sampling, warm-up, the measured phase,
 * sampling after, then hands back a {@link RunResult}. The verticles do the work; this class only
 * sequences them and waits, so blocking here never touches an event loop.
 */
public final class LoadTestRun {
  /** Priming: short phases, so phase ends are profiled too; bounded in count and time. */
  private static final long PRIME_REQUESTS_PER_PHASE = 200;
  private static final long PRIME_PHASE_NANOS = 20_000_000L;
  private static final int PRIME_PHASES = 20;
  private static final long PRIME_BUDGET_NANOS = 3_000_000_000L;
  private final LoadTestSettings settings;
  private final PrintStream progressOut;

  public LoadTestRun(LoadTestSettings settings, PrintStream progressOut) {
    this.settings = settings;
    this.progressOut = progressOut;
  }

  public RunResult execute() throws Exception {
    int threads = Math.max(1, Math.min(settings.threads(), settings.connections()));
    Transport transport = settings.transport().resolve();
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setEventLoopPoolSize(threads).setWorkerPoolSize(2).setInternalBlockingPoolSize(2)
            // One-off class initialisation (Netty's JFR events) can take seconds on a saturated host;
            // warn only beyond that, so logs are not flooded with false "blocked" alarms.
            .setMaxEventLoopExecuteTime(10).setMaxEventLoopExecuteTimeUnit(TimeUnit.SECONDS))
        .withTransport(transport)
        .build();
    WebClient metricsClient = null;
    ProgressBar progress = settings.progress() ? new ProgressBar(progressOut) : null;
    try {
      // Before the idle window, so the idle figures are not stretched by our own start-up.
      primeClientCode(vertx);
      List<ResourceProbe> probes = new ArrayList<>();
      if (settings.metricsUrl() != null) {
        metricsClient = WebClient.create(vertx);
      }
      addProbes(vertx, metricsClient, probes);
      ResourceSamplerVerticle sampler = null;
      if (!probes.isEmpty()) {
        sampler = new ResourceSamplerVerticle(probes, Math.max(10, settings.sampleInterval().toMillis()));
        await(vertx.deployVerticle(sampler));
        pause(settings.idleBefore());
      }

      List<LoadGeneratorVerticle> generators = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        LoadGeneratorVerticle g = new LoadGeneratorVerticle(settings.request(),
            LoadGeneratorVerticle.share(settings.connections(), threads, i), i, threads,
            settings.interval().toNanos(), settings.keepRequestLog());
        await(vertx.deployVerticle(g));
        generators.add(g);
      }

      AtomicLong payloadSequence = new AtomicLong();
      long warmupFinished = 0;
      if (settings.hasWarmup()) {
        if (sampler != null) {
          await(sampler.markPhase("warmup"));
        }
        PhasePlan warmup = new PhasePlan("warmup",
            settings.warmupRequests() > 0 ? settings.warmupRequests() : PhasePlan.UNLIMITED,
            settings.warmupDuration() != null && !settings.warmupDuration().isZero()
                ? settings.warmupDuration().toNanos() : PhasePlan.UNLIMITED,
            settings.rate(), payloadSequence);
        warmupFinished = runPhase(generators, warmup, progress).finished();
      }

      if (sampler != null) {
        await(sampler.markPhase("busy"));
      }
      PhasePlan measure = new PhasePlan("measure", settings.requestLimit(),
          settings.duration() == null ? PhasePlan.UNLIMITED : settings.duration().toNanos(),
          settings.rate(), payloadSequence);
      Instant startedAt = Instant.now();
      double cpuBefore = ownCpuSeconds();
      long jitBefore = jitMillis();
      RunRecorder measured = runPhase(generators, measure, progress);
      long measureEnd = System.nanoTime();
      double generatorCpu = ownCpuSeconds() - cpuBefore;
      double generatorJit = (jitMillis() - jitBefore) / 1000.0;
      if (progress != null) {
        progress.close();
        progress = null;
      }

      List<ResourceSample> samples = List.of();
      String target = null;
      long readFailures = 0;
      String lastFailure = null;
      if (sampler != null) {
        await(sampler.markPhase("after"));
        pause(settings.idleAfter());
        samples = await(sampler.finish());
        target = sampler.describeTarget();
        readFailures = sampler.readFailures();
        lastFailure = sampler.lastFailure();
      }
      return new RunResult(settings, startedAt, measured, measure.startNanos(), measureEnd, warmupFinished,
          target, samples, readFailures, lastFailure, generatorCpu, generatorJit,
          transport.name().toLowerCase(Locale.ROOT));
    } finally {
      if (progress != null) {
        progress.close();
      }
      if (metricsClient != null) {
        metricsClient.close();
      }
      await(vertx.close());
    }
  }

  private RunRecorder runPhase(List<LoadGeneratorVerticle> generators, PhasePlan plan, ProgressBar progress)
      throws Exception {
    plan.start(System.nanoTime());
    if (progress != null) {
      progress.show(plan);
    }
    List<Future<RunRecorder>> parts = new ArrayList<>();
    for (LoadGeneratorVerticle g : generators) {
      parts.add(g.runPhase(plan));
    }
    await(Future.all(parts));
    RunRecorder total = new RunRecorder(settings.interval().toNanos(), settings.keepRequestLog());
    for (Future<RunRecorder> part : parts) {
      total.merge(part.result());
    }
    return total;
  }

  /**
   * Runs the request path a few thousand times against a throw-away in-process server on loopback, so
   * class loading and the first JIT compilations of the client are not charged to the target's first
   * latencies (a cold JVM adds tens of ms). The target sees none of this traffic.
   *
   * <p>Why many short phases and not one: the optimizing compiler leaves out branches its profile
   * never saw taken. If the end of a phase was first seen at the end of the warm-up, the compiled
   * request path was thrown away there and the measured phase began in slower code while it was
   * compiled again (about 1 s of a 5 s measured phase, and that compiler's CPU taken from a target on
   * the same cores; JFR showed the deoptimizations at "unstable_if" in {@code sendNextClosed} and
   * {@code finishIfDone}). Short phases, ending after 200 requests or 20 ms, get those branches into the profile.
   */
  private void primeClientCode(Vertx vertx) throws Exception {
    HelloServerVerticle local = new HelloServerVerticle("127.0.0.1", 0);
    String id = await(vertx.deployVerticle(local));
    RequestSpec spec = settings.request();
    RequestSpec primer = new RequestSpec(URI.create("http://127.0.0.1:" + local.actualPort() + "/"), spec.method(),
        spec.headers(), 5000, spec.keepAlive(), spec.payloads().labelled() ? PayloadSource.none() : spec.payloads());
    LoadGeneratorVerticle generator = new LoadGeneratorVerticle(primer, Math.min(4, settings.connections()), 0, 1,
        1_000_000_000L, false);
    String generatorId = await(vertx.deployVerticle(generator));
    long started = System.nanoTime();
    for (int i = 0; i < PRIME_PHASES && System.nanoTime() - started < PRIME_BUDGET_NANOS; i++) {
      // Half end by count (-n), half by time (-t, --warmup 15s): both ends are in the profile.
      PhasePlan phase = i % 2 == 0
          ? new PhasePlan("prime", PRIME_REQUESTS_PER_PHASE, 2_000_000_000L, 0, new AtomicLong())
          : new PhasePlan("prime", PhasePlan.UNLIMITED, PRIME_PHASE_NANOS, 0, new AtomicLong());
      await(generator.runPhase(phase.start(System.nanoTime())));
    }
    await(vertx.undeploy(generatorId));
    await(vertx.undeploy(id));
  }

  private void addProbes(Vertx vertx, WebClient metricsClient, List<ResourceProbe> probes)
      throws IOException, InterruptedException {
    if (settings.pid() != null) {
      ProcessProbe.checkExists(settings.pid());
      probes.add(new ProcessProbe(vertx, settings.pid()));
    }
    if (settings.cgroup() != null) {
      probes.add(CgroupProbe.open(vertx, settings.cgroup()));
    }
    if (settings.container() != null) {
      long pid = DockerContainers.pidOf(settings.container());
      // The container's cgroup covers all its processes; fall back to its main PID when not readable.
      ResourceProbe probe;
      try {
        String cgroup = CgroupProbe.cgroupOfPid(pid);
        probe = CgroupProbe.open(vertx, cgroup == null ? "" : cgroup);
      } catch (IOException | IllegalArgumentException e) {
        probe = new ProcessProbe(vertx, pid);
      }
      probes.add(probe);
    }
    if (settings.metricsUrl() != null) {
      probes.add(new PrometheusProbe(metricsClient, settings.metricsUrl(),
          Math.max(1000, settings.sampleInterval().toMillis() * 4)));
    }
  }

  /** CPU time of this JVM (all threads), for the generator's own cost per request. */
  private static double ownCpuSeconds() {
    return ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0);
  }

  /**
   * Time the JIT compilers have spent so far (ms, summed over compiler threads; -1 if not reported).
   * Compilation during the measured phase means the generator was still warming up: its CPU is
   * included in the generator's CPU figures and taken from a target that shares the machine.
   */
  private static long jitMillis() {
    java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
  }

  private static void pause(Duration d) throws InterruptedException {
    if (d != null && !d.isZero()) {
      Thread.sleep(d.toMillis());
    }
  }

  /** Waits on the calling (non-event-loop) thread and unwraps the failure. */
  static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception ex) {
        throw ex;
      }
      throw e;
    }
  }

  /** Used by tests and the CLI to check a file is writable before a long run, not after it. */
  public static void checkWritable(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
  }
}
