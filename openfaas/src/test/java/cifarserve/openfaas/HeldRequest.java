package cifarserve.openfaas;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One classification over its own connection (Connection: close), sent in two steps: headers first,
 * body when {@link #finish()} is called. Between the two the request is in flight for the server,
 * which is how the tests hold max_inflight requests or a request across SIGTERM without timing luck.
 */
final class HeldRequest implements AutoCloseable {
  private final Socket socket;
  private final byte[] body;

  private HeldRequest(Socket socket, byte[] body) {
    this.socket = socket;
    this.body = body;
  }

  static HeldRequest open(int port, byte[] body) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(60_000);
    String head = "POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1:" + port
        + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
    socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    return new HeldRequest(socket, body);
  }

  /** Sends the body and reads the whole answer (the server closes the connection after it). */
  Answer finish() throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(body);
    out.flush();
    return Answer.parse(new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  /** An HTTP/1.1 answer read off the wire: its status (-1 if there was none) and body. */
  record Answer(int status, String body) {
    static Answer parse(String raw) {
      if (!raw.startsWith("HTTP/1.1 ") || raw.length() < 12) {
        return new Answer(-1, raw);
      }
      int split = raw.indexOf("\r\n\r\n");
      return new Answer(Integer.parseInt(raw.substring(9, 12)), split < 0 ? "" : raw.substring(split + 4));
    }
  }
}
