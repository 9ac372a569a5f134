package cifarserve.loadtest.generator;

import cifarserve.loadtest.payload.Payload;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.Map;

/**
 * Sends the requests of one share of the connections from one event loop. Closed model: each
 * connection sends its next request as soon as the previous answer arrives (like ab and wrk). Open
 * model: arrivals are scheduled at a constant rate from the phase origin and latency is also measured
 * from each arrival's intended send time (like wrk2), so a stalled server cannot hide its queue.
 * Nothing blocks: one WebClient, its pool capped at this instance's connections.
 */
public final class LoadGeneratorVerticle extends VerticleBase {
  /** How often the open model checks for due arrivals (Vert.x timers have millisecond resolution). */
  private static final long OPEN_MODEL_TICK_MILLIS = 1;

  private final RequestSpec spec;
  private final int connections;
  private final int instanceIndex;
  private final int instanceCount;
  private final long intervalNanos;
  private final boolean keepRequestLog;
  private WebClient client;
  private HttpRequest<Buffer> template;

  public LoadGeneratorVerticle(RequestSpec spec, int connections, int instanceIndex, int instanceCount,
      long intervalNanos, boolean keepRequestLog) {
    this.spec = spec;
    this.connections = connections;
    this.instanceIndex = instanceIndex;
    this.instanceCount = instanceCount;
    this.intervalNanos = intervalNanos;
    this.keepRequestLog = keepRequestLog;
  }

  /** Splits {@code total} connections over {@code instances} as evenly as possible. */
  public static int share(int total, int instances, int index) {
    return (int) share((long) total, instances, index);
  }

  /** Splits {@code total} requests over {@code instances} as evenly as possible. */
  public static long share(long total, int instances, int index) {
    return total / instances + (index < total % instances ? 1 : 0);
  }

  @Override
  public Future<?> start() {
    WebClientOptions options = new WebClientOptions()
        .setKeepAlive(spec.keepAlive())
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, spec.timeoutMillis()))
        .setFollowRedirects(false) // like ab: measure the answer we got, not the next hop
        .setUserAgent("cifar-loadtest");
    client = WebClient.create(vertx, options, new PoolOptions().setHttp1MaxSize(Math.max(1, connections)));
    template = client.requestAbs(spec.method(), spec.url().toString()).timeout(spec.timeoutMillis());
    for (Map.Entry<String, String> header : spec.headers()) {
      template.putHeader(header.getKey(), header.getValue());
    }
    Payload first = spec.payloads().get(0);
    if (first.hasBody() && first.contentType() != null && !hasHeader("content-type")) {
      template.putHeader("content-type", first.contentType());
    }
    return Future.succeededFuture();
  }

  private boolean hasHeader(String name) {
    return spec.headers().stream().anyMatch(h -> h.getKey().equalsIgnoreCase(name));
  }

  @Override
  public Future<?> stop() {
    if (client != null) {
      client.close();
    }
    return Future.succeededFuture();
  }

  /** Runs one phase on this verticle's event loop; completes with its figures once all answers are in. */
  public Future<RunRecorder> runPhase(PhasePlan plan) {
    Promise<RunRecorder> done = Promise.promise();
    if (connections < 1) {
      done.complete(new RunRecorder(intervalNanos, keepRequestLog));
      return done.future();
    }
    context.runOnContext(v -> {
      PhaseRun run = new PhaseRun(plan, done);
      if (plan.openModel()) {
        run.startOpen();
      } else {
        run.startClosed();
      }
    });
    return done.future();
  }

  /** State of one phase; only touched from this verticle's event loop. */
  private final class PhaseRun {
    private final PhasePlan plan;
    private final Promise<RunRecorder> done;
    private final RunRecorder recorder = new RunRecorder(intervalNanos, keepRequestLog);
    private int inFlight;
    private boolean sending = true;
    // Open model only.
    private long periodNanos;
    private long offsetNanos;
    private long arrivalLimit;
    private long nextArrival;
    private long timerId = -1;

    PhaseRun(PhasePlan plan, Promise<RunRecorder> done) {
      this.plan = plan;
      this.done = done;
    }

    void startClosed() {
      for (int i = 0; i < connections && sending; i++) {
        sendNextClosed();
      }
      finishIfDone();
    }

    private void sendNextClosed() {
      long now = System.nanoTime();
      if (!sending || now >= plan.deadlineNanos() || !plan.takeTicket()) {
        sending = false;
        return;
      }
      send(now, now);
    }

    void startOpen() {
      double ratePerInstance = plan.ratePerSecond() / instanceCount;
      periodNanos = Math.max(1, Math.round(1e9 / ratePerInstance));
      // Stagger the instances so their arrivals interleave instead of coinciding.
      offsetNanos = Math.round(instanceIndex * 1e9 / plan.ratePerSecond());
      long limit = plan.requestLimit();
      arrivalLimit = limit == PhasePlan.UNLIMITED ? PhasePlan.UNLIMITED : share(limit, instanceCount, instanceIndex);
      timerId = vertx.setPeriodic(OPEN_MODEL_TICK_MILLIS, id -> pumpOpen());
      pumpOpen();
    }

    private long arrivalsDueBy(long now) {
      long sinceStart = now - plan.startNanos() - offsetNanos;
      long due = sinceStart < 0 ? 0 : sinceStart / periodNanos + 1;
      return Math.min(due, arrivalLimit);
    }

    private long intendedTime(long arrival) {
      return plan.startNanos() + offsetNanos + arrival * periodNanos;
    }

    private void pumpOpen() {
      if (!sending) {
        return;
      }
      long now = System.nanoTime();
      long deadline = plan.deadlineNanos();
      long due = arrivalsDueBy(Math.min(now, deadline == PhasePlan.UNLIMITED ? now : deadline - 1));
      while (nextArrival < due && inFlight < connections) {
        send(intendedTime(nextArrival++), now);
      }
      boolean allSent = nextArrival >= arrivalLimit;
      if (now >= deadline || allSent) {
        sending = false;
        vertx.cancelTimer(timerId);
        // Arrivals that were due before the end but never found a free connection.
        recorder.arrivalsNotSent(due - nextArrival);
        finishIfDone();
      }
    }

    private void send(long intended, long now) {
      Payload payload = spec.payloads().get(plan.nextSequence());
      inFlight++;
      recorder.requestSent(payload.length());
      long sentAt = now;
      Future<HttpResponse<Buffer>> answer = payload.hasBody() ? template.sendBuffer(payload.body()) : template.send();
      answer.onComplete(ar -> onAnswer(ar, payload, intended, sentAt));
    }

    private void onAnswer(AsyncResult<HttpResponse<Buffer>> ar, Payload payload, long intended, long sentAt) {
      long doneAt = System.nanoTime();
      inFlight--;
      Outcome outcome;
      int status = 0;
      int length = 0;
      if (ar.succeeded()) {
        HttpResponse<Buffer> response = ar.result();
        status = response.statusCode();
        Buffer body = response.body();
        length = body == null ? 0 : body.length();
        outcome = status >= 200 && status < 300 ? Outcome.SUCCESS : Outcome.NON_2XX;
        if (outcome == Outcome.SUCCESS && payload.expectedIndex() >= 0) {
          checkAnswer(body, payload.expectedIndex());
        }
      } else {
        outcome = FailureClassifier.classify(ar.cause());
      }
      recorder.record(plan.startNanos(), intended, sentAt, doneAt, status, outcome, length);
      plan.finishedOne(outcome.isFailure());
      if (plan.openModel()) {
        pumpOpen();
      } else {
        sendNextClosed();
      }
      finishIfDone();
    }

    private void checkAnswer(Buffer body, int expectedIndex) {
      Integer index = null;
      try {
        JsonObject json = body == null ? null : body.toJsonObject();
        index = json == null ? null : json.getInteger("index");
      } catch (RuntimeException notJson) {
        // counted as unreadable below
      }
      recorder.accuracy(index != null, index != null && index == expectedIndex);
    }

    private void finishIfDone() {
      if (!sending && inFlight == 0) {
        done.tryComplete(recorder);
      }
    }
  }
}
