package cifarserve.loadtest.generator;

import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/** Sorts a failed request's exception into timeout, connection error or other, walking the cause chain. */
public final class FailureClassifier {
  private FailureClassifier() {
  }

  public static Outcome classify(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      // Netty's ConnectTimeoutException extends ConnectException: check timeouts first.
      if (t instanceof TimeoutException || t instanceof io.netty.channel.ConnectTimeoutException) {
        return Outcome.TIMEOUT;
      }
      if (t instanceof ConnectException || t instanceof NoRouteToHostException
          || t instanceof ClosedChannelException || t instanceof HttpClosedException
          || t instanceof SocketException) {
        return Outcome.CONNECTION_ERROR;
      }
      String message = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
      if (message.contains("timeout") || message.contains("timed out")) {
        return Outcome.TIMEOUT;
      }
      if ((t instanceof IOException || t instanceof VertxException)
          && (message.contains("connection") || message.contains("broken pipe"))) {
        return Outcome.CONNECTION_ERROR;
      }
    }
    return Outcome.OTHER;
  }
}
