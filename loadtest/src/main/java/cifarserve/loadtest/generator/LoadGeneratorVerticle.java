package cifarserve.loadtest.generator;

import cifarserve.loadtest.payload.Payload;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.util.Map;

/**
 * Sends the requests of one share of the connections from one event loop. Closed model: each
 * connection sends its next request as soon as the previous answer arrives (like ab and wrk). Open
 * model: arrivals are scheduled at a constant rate from the phase origin and latency is also measured
 * from each arrival's intended send time (like wrk2), so a stalled server cannot hide its queue.
 *
 * <p>Why the core {@link HttpClientAgent} and not the Vert.x Web client: the Web client is a layer of
 * request/response interceptor phases over this same core client, plus a connection pool lookup, a
 * timer per request and a buffered body per answer. On a loopback benchmark where the generator shares
 * the CPU with the server it measures, that layer was more than half of the generator's CPU per
 * request (see loadtest/README.md, "Comparison with wrk"). So the hot path works like wrk does: each
 * connection is a {@link Slot} that owns one HTTP/1.1 connection ({@link HttpClientAgent#connect}) and
 * has at most one request in flight on it (keep-alive, no pipelining). Without {@code -k} the slot
 * opens a new connection for every request and closes it after the answer, like ab. Request timeouts
 * are enforced by one periodic sweep per event loop instead of one timer per request.
 */
public final class LoadGeneratorVerticle extends VerticleBase {
  /** How often the open model checks for due arrivals (Vert.x timers have millisecond resolution). */
  private static final long OPEN_MODEL_TICK_MILLIS = 1;
  private static final long MAX_SWEEP_MILLIS = 100;

  private final RequestSpec spec;
  private final int connections;
  private final int instanceIndex;
  private final int instanceCount;
  private final long intervalNanos;
  private final boolean keepRequestLog;
  private final long timeoutNanos;
  private HttpClientAgent client;
  private HttpConnectOptions connectOptions;
  private RequestOptions requestOptions;
  private Slot[] slots;

  public LoadGeneratorVerticle(RequestSpec spec, int connections, int instanceIndex, int instanceCount,
      long intervalNanos, boolean keepRequestLog) {
    this.spec = spec;
    this.connections = connections;
    this.instanceIndex = instanceIndex;
    this.instanceCount = instanceCount;
    this.intervalNanos = intervalNanos;
    this.keepRequestLog = keepRequestLog;
    this.timeoutNanos = spec.timeoutMillis() * 1_000_000L;
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
    URI url = spec.url();
    boolean ssl = "https".equalsIgnoreCase(url.getScheme());
    int port = url.getPort() > 0 ? url.getPort() : ssl ? 443 : 80;
    int connectTimeout = (int) Math.min(Integer.MAX_VALUE, spec.timeoutMillis());
    client = vertx.createHttpClient(new HttpClientOptions()
        .setKeepAlive(spec.keepAlive())
        .setPipelining(false)
        .setConnectTimeout(connectTimeout));
    connectOptions = new HttpConnectOptions().setHost(url.getHost()).setPort(port).setSsl(ssl)
        .setConnectTimeout(connectTimeout);
    String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
    String uri = url.getRawQuery() == null ? path : path + "?" + url.getRawQuery();
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    for (Map.Entry<String, String> header : spec.headers()) {
      headers.add(header.getKey(), header.getValue());
    }
    if (!headers.contains("user-agent")) {
      headers.set("user-agent", "cifar-loadtest");
    }
    Payload first = spec.payloads().get(0);
    if (first.hasBody() && first.contentType() != null && !headers.contains("content-type")) {
      headers.set("content-type", first.contentType());
    }
    // Redirects are not followed (like ab: measure the answer we got, not the next hop).
    requestOptions = new RequestOptions().setMethod(spec.method()).setHost(url.getHost()).setPort(port)
        .setSsl(ssl).setURI(uri).setHeaders(headers).setFollowRedirects(false);
    slots = new Slot[Math.max(0, connections)];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = new Slot(i);
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    if (slots != null) {
      for (Slot slot : slots) {
        slot.dropConnection();
      }
    }
    return client == null ? Future.succeededFuture() : client.close();
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

  /**
   * One connection of this instance and the request in flight on it. Only touched from this
   * verticle's event loop. {@link #generation} tells a current completion from a stale one (a request
   * that was already counted as a timeout and whose connection was dropped).
   */
  private final class Slot {
    final int index;
    HttpClientConnection connection;
    PhaseRun run;
    int generation;
    boolean busy;
    Payload payload;
    long intended;
    long sentAt;
    int status;
    int bodyLength;

    Slot(int index) {
      this.index = index;
    }

    void send(PhaseRun owner, Payload body, long intendedAt, long now) {
      run = owner;
      busy = true;
      int gen = ++generation;
      payload = body;
      intended = intendedAt;
      sentAt = now;
      status = 0;
      bodyLength = 0;
      if (connection != null) {
        issue(gen);
      } else {
        client.connect(connectOptions).onComplete(ar -> connected(ar, gen));
      }
    }

    private void connected(AsyncResult<HttpClientConnection> ar, int gen) {
      if (ar.failed()) {
        if (gen == generation) {
          finish(gen, FailureClassifier.classify(ar.cause()));
        }
        return;
      }
      HttpClientConnection c = ar.result();
      if (gen != generation) { // timed out while connecting
        c.close();
        return;
      }
      connection = c;
      c.exceptionHandler(ignored -> {
        // failures reach the request's futures; nothing to do per connection
      });
      c.closeHandler(v -> {
        if (connection == c) {
          connection = null;
        }
      });
      issue(gen);
    }

    private void issue(int gen) {
      Payload body = payload;
      HttpClientConnection c = connection;
      c.request(requestOptions)
          .compose(request -> body.hasBody() ? request.send(body.body()) : request.send())
          .onComplete(ar -> answered(ar, gen, c));
    }

    private void answered(AsyncResult<HttpClientResponse> ar, int gen, HttpClientConnection c) {
      if (gen != generation) {
        return;
      }
      if (ar.failed()) {
        if (connection == c) {
          connection = null; // the next request opens a new one
        }
        finish(gen, FailureClassifier.classify(ar.cause()));
        c.close();
        return;
      }
      HttpClientResponse response = ar.result();
      status = response.statusCode();
      if (!spec.keepAlive() || "close".equalsIgnoreCase(response.getHeader("connection"))) {
        // The connection ends with this answer; the next request opens a new one.
        connection = null;
      }
      Outcome outcome = status >= 200 && status < 300 ? Outcome.SUCCESS : Outcome.NON_2XX;
      if (outcome == Outcome.SUCCESS && payload.expectedIndex() >= 0) {
        // Only labelled payloads need the body itself (to read the predicted class).
        response.body().onComplete(body -> {
          if (gen != generation) {
            return;
          }
          if (body.succeeded()) {
            bodyLength = body.result().length();
            run.checkAnswer(body.result(), payload.expectedIndex());
          }
          ended(gen, c, body.succeeded() ? outcome : FailureClassifier.classify(body.cause()));
        });
      } else {
        response.handler(chunk -> bodyLength += chunk.length());
        response.end().onComplete(end -> {
          if (gen == generation) {
            ended(gen, c, end.succeeded() ? outcome : FailureClassifier.classify(end.cause()));
          }
        });
      }
    }

    private void ended(int gen, HttpClientConnection c, Outcome outcome) {
      if (outcome.isFailure() && outcome != Outcome.NON_2XX) {
        status = 0; // the body did not arrive: no answer, and the connection is not reused
        if (connection == c) {
          connection = null;
        }
      }
      finish(gen, outcome); // may already send the next request on this slot
      if (connection != c) {
        c.close(); // not reused: no keep-alive, the server said close, or it broke
      }
    }

    /** The sweep found this request overdue: count a timeout and give up its connection. */
    void timeOut() {
      HttpClientConnection c = connection;
      connection = null;
      status = 0;
      finish(generation, Outcome.TIMEOUT);
      if (c != null) {
        c.close(); // fails the request in flight: a stale completion, ignored by the generation check
      }
    }

    private void finish(int gen, Outcome outcome) {
      generation = gen + 1; // later completions of this request are stale
      busy = false;
      PhaseRun owner = run;
      run = null;
      if (owner != null) {
        owner.completed(this, outcome);
      }
    }

    void dropConnection() {
      HttpClientConnection c = connection;
      connection = null;
      if (c != null) {
        c.close();
      }
    }
  }

  /** State of one phase; only touched from this verticle's event loop. */
  private final class PhaseRun {
    private final PhasePlan plan;
    private final Promise<RunRecorder> done;
    private final RunRecorder recorder = new RunRecorder(intervalNanos, keepRequestLog);
    /** Open model: free slots (a stack), to pick a connection for each arrival. */
    private final int[] free = new int[slots.length];
    private int freeCount;
    private int inFlight;
    private boolean sending = true;
    private long sweepTimerId = -1;
    // Open model only.
    private long periodNanos;
    private long offsetNanos;
    private long arrivalLimit;
    private long nextArrival;
    private long timerId = -1;

    PhaseRun(PhasePlan plan, Promise<RunRecorder> done) {
      this.plan = plan;
      this.done = done;
      if (plan.openModel()) {
        for (int i = slots.length - 1; i >= 0; i--) {
          free[freeCount++] = i;
        }
      }
      long sweepMillis = Math.max(1, Math.min(MAX_SWEEP_MILLIS, spec.timeoutMillis() / 10));
      sweepTimerId = vertx.setPeriodic(sweepMillis, id -> sweep());
    }

    void startClosed() {
      for (int i = 0; i < slots.length && sending; i++) {
        sendNextClosed(slots[i]);
      }
      finishIfDone();
    }

    private void sendNextClosed(Slot slot) {
      long now = System.nanoTime();
      if (!sending || now >= plan.deadlineNanos() || !plan.takeTicket()) {
        sending = false;
        return;
      }
      send(slot, now, now);
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
      while (nextArrival < due && freeCount > 0) {
        send(slots[free[--freeCount]], intendedTime(nextArrival++), now);
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

    private void send(Slot slot, long intended, long now) {
      Payload payload = spec.payloads().get(plan.nextSequence());
      inFlight++;
      recorder.requestSent(payload.length());
      slot.send(this, payload, intended, now);
    }

    /** Called by a slot once its request has ended, whatever the outcome. */
    void completed(Slot slot, Outcome outcome) {
      long doneAt = System.nanoTime();
      inFlight--;
      if (plan.openModel()) {
        free[freeCount++] = slot.index;
      }
      recorder.record(plan.startNanos(), slot.intended, slot.sentAt, doneAt, slot.status, outcome, slot.bodyLength);
      plan.finishedOne(outcome.isFailure());
      if (plan.openModel()) {
        pumpOpen();
      } else {
        sendNextClosed(slot);
      }
      finishIfDone();
    }

    /** One pass over this instance's connections: requests older than the timeout end as timeouts. */
    private void sweep() {
      long overdueBefore = System.nanoTime() - timeoutNanos;
      for (Slot slot : slots) {
        if (slot.busy && slot.run == this && slot.sentAt - overdueBefore <= 0) {
          slot.timeOut();
        }
      }
    }

    void checkAnswer(Buffer body, int expectedIndex) {
      Integer index = AnswerIndex.of(body); // null: unreadable, counted as such
      recorder.accuracy(index != null, index != null && index == expectedIndex);
    }

    private void finishIfDone() {
      if (!sending && inFlight == 0 && !done.future().isComplete()) {
        vertx.cancelTimer(sweepTimerId);
        done.tryComplete(recorder);
      }
    }
  }
}
