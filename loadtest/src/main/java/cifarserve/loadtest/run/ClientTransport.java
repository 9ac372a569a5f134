package cifarserve.loadtest.run;

import io.vertx.core.transport.Transport;
import java.util.Locale;

/**
 * The network transport the generator's event loops use. {@link #AUTO} takes io_uring where the kernel
 * and the sandbox allow it, else epoll, else Java NIO. Why io_uring first (Vert.x itself prefers
 * epoll): on loopback the generator shares the CPU with the server it measures, and io_uring cost it
 * 15-17 µs per request against epoll's 19-27 µs in alternating runs (loadtest/README.md, "Comparison
 * with wrk"), so it disturbs the target less and keeps up with wrk.
 */
public enum ClientTransport {
  AUTO, IO_URING, EPOLL, NIO;

  /** Parses {@code auto}, {@code io_uring} (or {@code io-uring}), {@code epoll} and {@code nio}. */
  public static ClientTransport parse(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT).replace('-', '_')) {
      case "auto" -> AUTO;
      case "io_uring" -> IO_URING;
      case "epoll" -> EPOLL;
      case "nio" -> NIO;
      default -> throw new IllegalArgumentException("--transport takes auto, io_uring, epoll or nio, got '" + text + "'");
    };
  }

  /** The Vert.x transport to build the generator's Vert.x with; an explicit choice that cannot load is an error. */
  public Transport resolve() {
    return switch (this) {
      case AUTO -> Transport.IO_URING.available() ? Transport.IO_URING
          : Transport.EPOLL.available() ? Transport.EPOLL : Transport.NIO;
      case IO_URING -> require(Transport.IO_URING);
      case EPOLL -> require(Transport.EPOLL);
      case NIO -> Transport.NIO;
    };
  }

  private static Transport require(Transport transport) {
    if (!transport.available()) {
      Throwable cause = transport.unavailabilityCause();
      throw new IllegalArgumentException("--transport " + transport.name().toLowerCase(Locale.ROOT)
          + " is not available here" + (cause == null ? "" : ": " + cause.getMessage()));
    }
    return transport;
  }
}
