package cifarserve.http;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, one request per connection: the bytes sent are exactly the ones
 * written (no Content-Type or Content-Length added, malformed requests possible), and the answer is
 * read until the server closes. A client library would repair most of the inputs these tests need.
 */
final class RawHttp {
  private RawHttp() {
  }

  /** A parsed answer; {@code status} 0 when the server closed without one. */
  record Response(int status, Map<String, String> headers, byte[] body, long millis) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    /** The body as JSON, or null if it is not a JSON object. */
    JsonObject json() {
      try {
        return new JsonObject(text());
      } catch (RuntimeException notJson) {
        return null;
      }
    }

    @Override
    public String toString() {
      return "HTTP " + status + " " + headers + " " + text();
    }
  }

  /** A request with Host and {@code Connection: close}; Content-Length is set unless {@code contentType} headers say chunked. */
  static byte[] request(String method, String path, String contentType, byte[] body, String... extraHeaders) {
    StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n")
        .append("Host: 127.0.0.1\r\nConnection: close\r\n");
    if (contentType != null) {
      head.append("Content-Type: ").append(contentType).append("\r\n");
    }
    if (body != null) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    for (String header : extraHeaders) {
      head.append(header).append("\r\n");
    }
    head.append("\r\n");
    return concat(head.toString().getBytes(StandardCharsets.ISO_8859_1), body == null ? new byte[0] : body);
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /**
   * Sends {@code request} and reads the answer until the connection closes or {@code timeoutMs} passes
   * (then fails: a hang is a defect). The write runs beside the read: a server may answer (413) and
   * close before a large body is sent.
   */
  static Response exchange(int port, byte[] request, int timeoutMs) throws IOException, InterruptedException {
    long start = System.nanoTime();
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(timeoutMs);
      Thread writer = new Thread(() -> {
        try {
          OutputStream out = socket.getOutputStream();
          out.write(request);
          out.flush();
        } catch (IOException answeredEarly) {
          // the server answered and closed before reading it all: the answer is what counts
        }
      }, "raw-http-writer");
      writer.start();
      byte[] answer = readUntilClosed(socket.getInputStream(), start, timeoutMs);
      writer.join(timeoutMs);
      return parse(answer, (System.nanoTime() - start) / 1_000_000);
    }
  }

  static byte[] readUntilClosed(InputStream in, long startNanos, int timeoutMs) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        out.write(buffer, 0, n);
        if ((System.nanoTime() - startNanos) / 1_000_000 > timeoutMs) {
          throw new SocketTimeoutException("still reading after " + timeoutMs + " ms");
        }
      }
    } catch (java.net.SocketException reset) {
      // a reset after the answer (the server closed with unread request bytes): keep what arrived
    }
    return out.toByteArray();
  }

  static Response parse(byte[] answer, long millis) {
    String text = new String(answer, StandardCharsets.ISO_8859_1);
    int headEnd = text.indexOf("\r\n\r\n");
    if (!text.startsWith("HTTP/1.1 ") || headEnd < 0) {
      return new Response(0, Map.of(), answer, millis);
    }
    String[] lines = text.substring(0, headEnd).split("\r\n");
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
      }
    }
    byte[] body = Arrays.copyOfRange(answer, headEnd + 4, answer.length);
    return new Response(Integer.parseInt(lines[0].substring(9, 12)), headers, body, millis);
  }
}
