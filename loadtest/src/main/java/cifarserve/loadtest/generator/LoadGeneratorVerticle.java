package cifarserve.loadtest.generator;

import cifarserve.loadtest.payload.Payload;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import java.net.URI;

/**
 * Sends the requests of one share of the connections from one event loop. Closed model: each
 * connection sends its next request as soon as the previous answer arrives (like ab and wrk). Open
 * model: arrivals are scheduled at a constant rate from the phase origin and latency is also measured
 * from each arrival's intended send time (like wrk2), so a stalled server cannot hide its queue.
 *
 * <p>Why a Vert.x {@link NetClient} with Netty's HTTP decoder and not an HTTP client: the generator
 * shares the CPU with the server it measures, so every microsecond it spends per request is taken
 * from the server. The Vert.x Web client is a layer of interceptor phases, a pool lookup and a timer
 * per request over the core HTTP client; the core client still builds a request object, a header map
 * encoded anew, a stream, a response object, an inbound queue and half a dozen futures per request.
 * Here, as in wrk, the request bytes are encoded once ({@link EncodedRequests}) and each answer is
 * parsed by Netty's {@link HttpResponseDecoder}. In alternating runs on loopback against a trivial
 * endpoint at 16 connections the generator's CPU per request fell from 15.4-17.6 to 13.0-14.1 µs,
 * wrk's own being 13.9-15.1 on the same host (loadtest/README.md, "Comparison with wrk"). Each
 * connection is a {@link Slot} that owns one HTTP/1.1 connection with at most one request in flight
 * (keep-alive, no pipelining). Without {@code -k} the slot opens a new connection for
 * every request, sends {@code Connection: close} and closes it after the answer, like ab. Request
 * timeouts are enforced by one periodic sweep per event loop instead of one timer per request; it lives
 * as long as the verticle, not a phase, so the event loop's timer queue is never empty between phases
 * (the compiled event loop assumed it never was, and a warm-up ending used to throw that code away).
 */
public final class LoadGeneratorVerticle extends VerticleBase {
  /** How often the open model checks for due arrivals (Vert.x timers have millisecond resolution). */
  private static final long OPEN_MODEL_TICK_MILLIS = 1;
  private static final long MAX_SWEEP_MILLIS = 100;
  /** Where the HTTP decoder goes: before the handler Vert.x puts in every connection's pipeline. */
  private static final String VERTX_HANDLER = "handler";

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
  private Slot[] slots;
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
    slots = new Slot[Math.max(0, connections)];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = new Slot(i);
    }
    long sweepMillis = Math.max(1, Math.min(MAX_SWEEP_MILLIS, spec.timeoutMillis() / 10));
    sweepTimerId = vertx.setPeriodic(sweepMillis, id -> sweep());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweepTimerId);
    if (slots != null) {
      for (Slot slot : slots) {
        slot.dropConnection();
      }
    }
    return client == null ? Future.succeededFuture() : client.close();
  }

  /** One pass over this instance's connections: requests older than the timeout end as timeouts. */
  private void sweep() {
    long overdueBefore = System.nanoTime() - timeoutNanos;
    for (Slot slot : slots) {
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

  /** Netty's response decoder, told which answers have no body whatever their headers say. */
  private static final class ResponseDecoder extends HttpResponseDecoder {
    private final boolean head;

    ResponseDecoder(HttpMethod method) {
      this.head = HttpMethod.HEAD.equals(method);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      return head || super.isContentAlwaysEmpty(msg);
    }
  }

  /**
   * One connection of this instance and the request in flight on it. Only touched from this
   * verticle's event loop. {@link #generation} tells a current completion from a stale one (a request
   * that was already counted as a timeout and whose connection was dropped).
   */
  private final class Slot {
    final int index;
    NetSocketInternal connection;
    PhaseRun run;
    int generation;
    boolean busy;
    Payload payload;
    long intended;
    long sentAt;
    int status;
    int bodyLength;
    /** The answer so far is a 1xx (100 Continue): its end is not the request's end. */
    boolean informational;
    /** The answer asks to close the connection after it (or the request did, without -k). */
    boolean closeAfter;
    /** The answer's body, kept only for labelled payloads (to read the predicted class). */
    Buffer body;

    Slot(int index) {
      this.index = index;
    }

    void send(PhaseRun owner, Payload next, long intendedAt, long now) {
      run = owner;
      busy = true;
      int gen = ++generation;
      payload = next;
      intended = intendedAt;
      sentAt = now;
      status = 0;
      bodyLength = 0;
      informational = false;
      closeAfter = !spec.keepAlive();
      body = null;
      if (connection != null) {
        connection.writeMessage(requests.request(payload));
      } else {
        client.connect(connectOptions).onComplete(ar -> connected(ar, gen));
      }
    }

    private void connected(AsyncResult<NetSocket> ar, int gen) {
      if (ar.failed()) {
        if (gen == generation) {
          finish(gen, FailureClassifier.classify(ar.cause()));
        }
        return;
      }
      NetSocketInternal c = (NetSocketInternal) ar.result();
      if (gen != generation) { // timed out while connecting
        c.close();
        return;
      }
      connection = c;
      c.channelHandlerContext().pipeline().addBefore(VERTX_HANDLER, "http-response-decoder",
          new ResponseDecoder(requests.method()));
      c.messageHandler(message -> {
        try {
          received(c, (HttpObject) message);
        } finally {
          ReferenceCountUtil.release(message);
        }
      });
      c.exceptionHandler(failure -> broken(c, FailureClassifier.classify(failure)));
      // A close before the answer is complete (reset, or the server hung up) fails the request.
      c.closeHandler(v -> broken(c, Outcome.CONNECTION_ERROR));
      c.writeMessage(requests.request(payload));
    }

    /** One part of an answer, in order: the status line and headers, body chunks, the end. */
    private void received(NetSocketInternal c, HttpObject message) {
      if (c != connection || !busy) {
        return; // a late part of an answer already given up (timeout), or bytes nobody asked for
      }
      if (message.decoderResult().isFailure()) {
        // Not HTTP, or not HTTP we can read: a protocol error; the connection cannot be trusted.
        broken(c, Outcome.OTHER);
        return;
      }
      if (message instanceof HttpResponse response) {
        int code = response.status().code();
        informational = code >= 100 && code < 200 && code != HttpResponseStatus.SWITCHING_PROTOCOLS.code();
        if (informational) {
          return;
        }
        status = code;
        closeAfter |= !HttpUtil.isKeepAlive(response);
        if (payload.expectedIndex() >= 0 && isSuccess(code)) {
          body = Buffer.buffer();
        }
      }
      if (message instanceof HttpContent content && !informational) {
        ByteBuf bytes = content.content();
        int length = bytes.readableBytes();
        bodyLength += length;
        if (body != null && length > 0) {
          body.appendBuffer(BufferInternal.buffer(bytes)); // one copy, before the chunk is released
        }
      }
      if (message instanceof LastHttpContent) {
        if (informational) {
          informational = false; // the real answer follows
          return;
        }
        answered(c);
      }
    }

    private void answered(NetSocketInternal c) {
      int gen = generation;
      Outcome outcome = isSuccess(status) ? Outcome.SUCCESS : Outcome.NON_2XX;
      if (body != null) {
        run.checkAnswer(body, payload.expectedIndex());
        body = null;
      }
      if (closeAfter) {
        connection = null; // the next request opens a new one
      }
      finish(gen, outcome); // may already send the next request on this connection
      if (connection != c) {
        c.close(); // not reused: no keep-alive, or the server said close
      }
    }

    /**
     * The connection failed, closed, or sent what is not HTTP; a request still waiting on it has
     * failed with it (no answer we could read).
     */
    private void broken(NetSocketInternal c, Outcome outcome) {
      if (c == connection) {
        connection = null;
        if (busy) {
          status = 0;
          finish(generation, outcome);
        }
      }
      c.close();
    }

    /** The sweep found this request overdue: count a timeout and give up its connection. */
    void timeOut() {
      NetSocketInternal c = connection;
      connection = null;
      status = 0;
      finish(generation, Outcome.TIMEOUT);
      if (c != null) {
        c.close(); // its late events find it is no longer this slot's connection
      }
    }

    private void finish(int gen, Outcome outcome) {
      generation = gen + 1; // later completions of this request are stale
      busy = false;
      body = null;
      PhaseRun owner = run;
      run = null;
      if (owner != null) {
        owner.completed(this, outcome);
      }
    }

    void dropConnection() {
      NetSocketInternal c = connection;
      connection = null;
      if (c != null) {
        c.close();
      }
    }
  }

  private static boolean isSuccess(int status) {
    return status >= 200 && status < 300;
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

    void checkAnswer(Buffer body, int expectedIndex) {
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
