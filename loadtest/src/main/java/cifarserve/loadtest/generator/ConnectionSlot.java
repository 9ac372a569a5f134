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
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

/**
 * One connection of this instance and the request in flight on it. Only touched from this
 * verticle's event loop. {@link #generation} tells a current completion from a stale one (a request
 * that was already counted as a timeout and whose connection was dropped).
 */
final class ConnectionSlot {
  /** Where the HTTP decoder goes: before the handler Vert.x puts in every connection's pipeline. */
  private static final String VERTX_HANDLER = "handler";

  final int index;
  private final NetClient client;
  private final ConnectOptions connectOptions;
  private final EncodedRequests requests;
  private final boolean keepAlive;
  NetSocketInternal connection;
  Owner run;
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

  ConnectionSlot(int index, NetClient client, ConnectOptions connectOptions, EncodedRequests requests,
      boolean keepAlive) {
    this.index = index;
    this.client = client;
    this.connectOptions = connectOptions;
    this.requests = requests;
    this.keepAlive = keepAlive;
  }

  void send(Owner owner, Payload next, long intendedAt, long now) {
    run = owner;
    busy = true;
    int gen = ++generation;
    payload = next;
    intended = intendedAt;
    sentAt = now;
    status = 0;
    bodyLength = 0;
    informational = false;
    closeAfter = !keepAlive;
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
    Owner owner = run;
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

  static boolean isSuccess(int status) {
    return status >= 200 && status < 300;
  }

  /** Whoever sent the request: told of its end, and of a labelled answer's body. */
  interface Owner {
    void completed(ConnectionSlot slot, Outcome outcome);

    void checkAnswer(Buffer body, int expectedIndex);
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
}
