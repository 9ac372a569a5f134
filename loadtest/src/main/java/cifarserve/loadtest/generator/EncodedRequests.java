package cifarserve.loadtest.generator;

import cifarserve.loadtest.payload.Payload;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.internal.buffer.BufferInternal;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;

/**
 * The bytes of every request a run sends, encoded once by Netty's {@link HttpRequestEncoder} (as wrk
 * builds its request once): the request line and headers depend only on the body's length, so each
 * distinct length gets one encoded head, and a request is that head followed by its payload's body.
 * Sending then costs no header map, no encoding and no copy of the body per request.
 *
 * <p>Each generator instance has its own, used from its event loop only (no lock). The buffers it
 * hands out are views of their own that the caller writes (and so releases) freely and must not modify.
 */
public final class EncodedRequests {
  private final HttpMethod method;
  private final String uri;
  private final HttpHeaders headers;
  private final Map<Integer, ByteBuf> headsByBodyLength = new HashMap<>();

  public EncodedRequests(RequestSpec spec) {
    URI url = spec.url();
    this.uri = spec.requestTarget();
    this.method = HttpMethod.valueOf(spec.method().name());
    this.headers = DefaultHttpHeadersFactory.headersFactory().newHeaders();
    for (Map.Entry<String, String> header : spec.headers()) {
      headers.add(header.getKey(), header.getValue());
    }
    if (!headers.contains(HttpHeaderNames.HOST)) {
      headers.set(HttpHeaderNames.HOST,
          spec.port() == spec.defaultPort() ? url.getHost() : url.getHost() + ":" + spec.port());
    }
    if (!headers.contains(HttpHeaderNames.USER_AGENT)) {
      headers.set(HttpHeaderNames.USER_AGENT, "cifar-loadtest");
    }
    Payload first = spec.payloads().get(0);
    if (first.hasBody() && first.contentType() != null && !headers.contains(HttpHeaderNames.CONTENT_TYPE)) {
      headers.set(HttpHeaderNames.CONTENT_TYPE, first.contentType());
    }
    if (!spec.keepAlive()) {
      // Like ab without -k: one request per connection, and the server is told so.
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
  }

  /** The method, for answers that never have a body (HEAD). */
  public HttpMethod method() {
    return method;
  }

  /** The whole request for this payload, ready to write; each call returns a new view. */
  public ByteBuf request(Payload payload) {
    ByteBuf head = head(payload.hasBody() ? payload.length() : -1).duplicate();
    if (!payload.hasBody()) {
      return head;
    }
    CompositeByteBuf whole = Unpooled.compositeBuffer(2);
    whole.addComponent(true, head);
    // Unreleasable: the write releases what it sent, and the payload is sent again and again.
    whole.addComponent(true, Unpooled.unreleasableBuffer(((BufferInternal) payload.body()).getByteBuf()));
    return whole;
  }

  /** The encoded request line and headers for a body of this length (-1: no body). */
  private ByteBuf head(int bodyLength) {
    ByteBuf head = headsByBodyLength.get(bodyLength);
    if (head == null) {
      head = encode(bodyLength);
      headsByBodyLength.put(bodyLength, head);
    }
    return head;
  }

  private ByteBuf encode(int bodyLength) {
    DefaultHttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri, headers.copy());
    if (bodyLength >= 0) {
      request.headers().set(HttpHeaderNames.CONTENT_LENGTH, bodyLength);
    }
    EmbeddedChannel channel = new EmbeddedChannel(new HttpRequestEncoder());
    try {
      channel.writeOutbound(request);
      ByteBuf bytes = Unpooled.buffer();
      for (ByteBuf part = channel.readOutbound(); part != null; part = channel.readOutbound()) {
        bytes.writeBytes(part);
        part.release();
      }
      // Never freed: every request is a duplicate of it (direct, so native transports write it as is).
      return Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.readableBytes()).writeBytes(bytes));
    } finally {
      channel.finishAndReleaseAll();
    }
  }
}
