package cifarserve.cluster;

import cifarserve.config.ServiceSettings;
import cifarserve.model.ModelVersion;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * How inference work spreads over a cluster: local first, spill when busy, never lose a request.
 *
 * <p>Every node's inference verticle consumes two addresses: {@code cifar.inference} (local only: its
 * own HTTP verticle's requests) and {@link #ADDRESS} (cluster-wide: work other nodes hand over).
 * A request from the local HTTP side runs here while this node's load (images queued + in the running
 * batch) is below {@code cluster.spillQueueImages}; above it, it is sent once to {@link #ADDRESS},
 * where the event bus picks a node round-robin (possibly this one). A request that arrives on
 * {@link #ADDRESS} always runs where it lands: it is never forwarded again, so a request makes at
 * most one hop. The hop has its own timeout ({@code cluster.hopTimeoutMs}, shorter than the HTTP
 * one); if it fails because the node died (no handler, timeout, connection lost) or because the
 * chosen node is full or has an older model than this one, the request runs here after all (if this
 * queue has room; else the caller gets a 503). A node that has a model therefore never answers with
 * an older one than its own, and a dead peer costs its in-flight spills one hop timeout, not an error.
 */
public final class ClusterDispatch {
  /** Cluster-wide inference address: requests handed over by another node (or by this one). */
  public static final String ADDRESS = "cifar.inference.cluster";
  /** Header of a handed-over request: the sender's model version; older models refuse the work. */
  public static final String MIN_VERSION_HEADER = "cifar-min-model-version";
  /** Failure code of a node whose model is older than the sender's (the sender runs it itself). */
  public static final int OLDER_MODEL = 409;

  private final Vertx vertx;
  private final int spillQueueImages;
  private final long hopTimeoutMs;
  private final MeterRegistry registry;

  public ClusterDispatch(Vertx vertx, ServiceSettings.Cluster settings, MeterRegistry registry) {
    this.vertx = vertx;
    this.spillQueueImages = settings.spillQueueImages();
    this.hopTimeoutMs = settings.hopTimeoutMs();
    this.registry = registry;
  }

  /** Only a clustered node spills; a single node always runs its requests itself. */
  public boolean enabled() {
    return vertx.isClustered();
  }

  /** True when a request of {@code images} should be handed to the cluster given this node's load. */
  public boolean shouldSpill(int localLoadImages, int images) {
    return enabled() && localLoadImages + images > spillQueueImages;
  }

  /**
   * Sends the request body to {@link #ADDRESS}; the returned future holds the reply, or fails with
   * the hop's failure. {@code localVersion} (may be null) is the version the receiver must match.
   */
  public Future<Message<Buffer>> forward(Buffer body, String localVersion, long remainingMs) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(Math.max(1, Math.min(hopTimeoutMs, remainingMs)));
    if (localVersion != null) {
      options.addHeader(MIN_VERSION_HEADER, localVersion);
    }
    return vertx.eventBus().<Buffer>request(ADDRESS, body, options)
        .onSuccess(reply -> registry.counter("cifar_cluster_forwarded_total", "outcome", "answered").increment())
        .onFailure(e -> registry.counter("cifar_cluster_forwarded_total", "outcome", outcome(e)).increment());
  }

  /**
   * True when a failed hop should be run locally instead: the peer is gone or slow, full, not ready,
   * or has an older model. False for failures the local node would repeat (e.g. a malformed batch).
   */
  public static boolean runLocallyAfter(Throwable failure) {
    if (!(failure instanceof ReplyException reply)) {
      return true;
    }
    if (reply.failureType() != ReplyFailure.RECIPIENT_FAILURE) {
      return true; // NO_HANDLERS, TIMEOUT, ERROR (connection to the node lost)
    }
    int code = reply.failureCode();
    return code == 503 || code == OLDER_MODEL || code >= 500;
  }

  /** True when a peer with model {@code ownVersion} may serve a request that requires {@code minVersion}. */
  public static boolean acceptsVersion(String ownVersion, String minVersion) {
    if (minVersion == null) {
      return true;
    }
    // A header that is not a version id (a hostile or broken peer) never matches.
    return ownVersion != null && ModelVersion.isValid(minVersion)
        && ModelVersion.parse(ownVersion).compareTo(ModelVersion.parse(minVersion)) >= 0;
  }

  private static String outcome(Throwable e) {
    if (e instanceof ReplyException reply) {
      return switch (reply.failureType()) {
        case TIMEOUT -> "timeout";
        case NO_HANDLERS -> "no-handlers";
        case RECIPIENT_FAILURE -> "refused-" + reply.failureCode();
        default -> "error";
      };
    }
    return "error";
  }
}
