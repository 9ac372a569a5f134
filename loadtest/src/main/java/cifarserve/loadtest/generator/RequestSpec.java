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
}
