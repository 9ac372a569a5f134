package cifarserve.loadtest.generator;

import cifarserve.loadtest.payload.PayloadSource;
import io.vertx.core.http.HttpMethod;
import java.net.URI;
import java.util.List;
import java.util.Map;

/** What every request of a run looks like; built once from the command line. */
public record RequestSpec(
    URI url,
    HttpMethod method,
    List<Map.Entry<String, String>> headers,
    long timeoutMillis,
    boolean keepAlive,
    PayloadSource payloads) {

  /** True for an https URL. */
  public boolean secure() {
    return "https".equalsIgnoreCase(url.getScheme());
  }

  /** The scheme's own port: 443 for https, 80 for http. */
  public int defaultPort() {
    return secure() ? 443 : 80;
  }

  /** The port to connect to: the URL's, or the scheme's default. */
  public int port() {
    return url.getPort() > 0 ? url.getPort() : defaultPort();
  }

  /** The request line's target: the raw path ("/" when empty) and query. */
  public String requestTarget() {
    String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
    return url.getRawQuery() == null ? path : path + "?" + url.getRawQuery();
  }
}
