package cifarserve.loadtest.generator;

import cifarserve.loadtest.payload.Payload;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.net.URI;

/**
 * Sends the requests of one share of the connections from one event loop. Closed model: each
 * connection sends its next request as soon as the previous answer arrives (like ab and wrk). Open
 * model: arrivals are scheduled at a constant rate from the phase origin and latency is also measured
 * from each arrival's intended send time (like wrk2), so a stalled server cannot hide its queue.
 *
 * <p>Each connection is a {@link ConnectionSlot}: raw bytes over a Vert.x {@link NetClient}, not an
 * HTTP client, because the generator shares the CPU with the server it measures (why and the figures:
 * loadtest/README.md, "Comparison with wrk"). Request timeouts are enforced by one periodic sweep per
 * event loop, which lives as long as the verticle so the timer queue is never empty between phases.
 */
public final class LoadGeneratorVerticle extends VerticleBase {
  /** How often the open model checks for due arrivals (Vert.x timers have millisecond resolution). */
  private static final long OPEN_MODEL_TICK_MILLIS = 1;
  private static final long MAX_SWEEP_MILLIS = 100;

  private final RequestSpec spec;
  private final EncodedRequests requests;
  private final int connections;
  private final int instanceIndex;
  private final int instanceCount;
  private final long intervalNanos;
  private final boolean keepRequestLog;
  private final long timeoutNanos;
  private NetClient client;
  private ConnectOptions connectOptions;
  private ConnectionSlot[] slots;
  private long sweepTimerId = -1;

  public LoadGeneratorVerticle(RequestSpec spec, int connections, int instanceIndex, int instanceCount,
      long intervalNanos, boolean keepRequestLog) {
    this.spec = spec;
    this.requests = new EncodedRequests(spec);
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
    boolean ssl = spec.secure();
    int connectTimeout = (int) Math.min(Integer.MAX_VALUE, spec.timeoutMillis());
    // TCP_NODELAY as HTTP clients do: a request is one write and must leave at once. Certificates and
    // host names are verified as an HTTPS client would.
    client = vertx.createNetClient(new NetClientOptions()
        .setTcpNoDelay(true)
        .setConnectTimeout(connectTimeout)
        .setHostnameVerificationAlgorithm(ssl ? "HTTPS" : ""));
    connectOptions = new ConnectOptions().setHost(url.getHost()).setPort(spec.port()).setSsl(ssl)
        .setTimeout(connectTimeout);
    if (ssl) {
      connectOptions.setSniServerName(url.getHost());
    }
    slots = new ConnectionSlot[Math.max(0, connections)];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = new ConnectionSlot(i, client, connectOptions, requests, spec.keepAlive());
    }
    long sweepMillis = Math.max(1, Math.min(MAX_SWEEP_MILLIS, spec.timeoutMillis() / 10));
    sweepTimerId = vertx.setPeriodic(sweepMillis, id -> sweep());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweepTimerId);
    if (slots != null) {
      for (ConnectionSlot slot : slots) {
        slot.dropConnection();
      }
    }
    return client == null ? Future.succeededFuture() : client.close();
  }

  /** One pass over this instance's connections: requests older than the timeout end as timeouts. */
  private void sweep() {
    long overdueBefore = System.nanoTime() - timeoutNanos;
    for (ConnectionSlot slot : slots) {
      if (slot.busy && slot.sentAt - overdueBefore <= 0) {
        slot.timeOut();
      }
    }
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
  private final class PhaseRun implements ConnectionSlot.Owner {
    private final PhasePlan plan;
    private final Promise<RunRecorder> done;
    private final RunRecorder recorder = new RunRecorder(intervalNanos, keepRequestLog);
    /** Open model: free slots (a stack), to pick a connection for each arrival. */
    private final int[] free = new int[slots.length];
    private int freeCount;
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
      if (plan.openModel()) {
        for (int i = slots.length - 1; i >= 0; i--) {
          free[freeCount++] = i;
        }
      }
    }

    void startClosed() {
      for (int i = 0; i < slots.length && sending; i++) {
        sendNextClosed(slots[i]);
      }
      finishIfDone();
    }

    private void sendNextClosed(ConnectionSlot slot) {
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

    private void send(ConnectionSlot slot, long intended, long now) {
      Payload payload = spec.payloads().get(plan.nextSequence());
      inFlight++;
      recorder.requestSent(payload.length());
      slot.send(this, payload, intended, now);
    }

    @Override
    public void completed(ConnectionSlot slot, Outcome outcome) {
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

    @Override
    public void checkAnswer(Buffer body, int expectedIndex) {
      Integer index = AnswerIndex.of(body); // null: unreadable, counted as such
      recorder.accuracy(index != null, index != null && index == expectedIndex);
    }

    private void finishIfDone() {
      if (!sending && inFlight == 0 && !done.future().isComplete()) {
        done.tryComplete(recorder);
      }
    }
  }
}
