package cifarserve.inference;

import cifarserve.Addresses;
import cifarserve.config.ServiceSettings;
import cifarserve.model.ModelCatalog;
import cifarserve.model.ModelVersion;
import cifarserve.model.OnnxModel;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the {@link Batcher}'s model current: loads the initial model (preloaded by the function, or the
 * newest artifact here, or the cluster's if newer, sharing this node's own when it is the newer), and
 * swaps to newer announced versions after verifying and warming them up. Versions only move forward.
 * Runs on its verticle's event loop ({@code context}); loading and warm-up run on workers.
 */
final class ModelSwitch {
  private static final Logger LOG = LoggerFactory.getLogger(ModelSwitch.class);
  private final Vertx vertx;
  private final Context context;
  private final ServiceSettings settings;
  private final ModelCatalog catalog;
  private final Batcher batcher;
  /** The initial model, loaded since the process started (the function); null: load it here. */
  private final CompletionStage<Optional<OnnxModel>> preloaded;
  private String loadingVersion;
  /** Loads and swaps not yet finished: a stop waits for them (see {@link #settled}). */
  private final Set<Future<Void>> inFlight = ConcurrentHashMap.newKeySet();

  ModelSwitch(Vertx vertx, Context context, ServiceSettings settings, ModelCatalog catalog, Batcher batcher,
      CompletionStage<Optional<OnnxModel>> preloaded) {
    this.vertx = vertx;
    this.context = context;
    this.settings = settings;
    this.catalog = catalog;
    this.batcher = batcher;
    this.preloaded = preloaded;
  }

  OnnxModel served() {
    return (OnnxModel) batcher.current();
  }

  /**
   * Completes once every load and swap started so far has ended, however it ended. A process must not
   * exit while ONNX Runtime builds a session on a worker: its native globals are torn down under that
   * thread (a SIGTERM right after training finished crashed the JVM in session creation).
   */
  Future<Void> settled() {
    return Future.join(List.copyOf(inFlight)).transform(done -> Future.succeededFuture());
  }

  private Future<Void> tracked(Future<Void> operation) {
    if (!operation.isComplete()) {
      inFlight.add(operation);
      operation.onComplete(done -> inFlight.remove(operation));
    }
    return operation;
  }

  /** The initial model: the preloaded one, or the newest here (and, in a cluster, the cluster's if newer). */
  Future<Void> loadInitial() {
    return tracked(initial());
  }

  private Future<Void> initial() {
    if (preloaded != null) {
      return Future.fromCompletionStage(preloaded, context).compose(found -> {
        if (found.isEmpty()) {
          LOG.info("No model artifact in {} yet: waiting for one", catalog.repository().directory());
          return Future.succeededFuture();
        }
        OnnxModel model = found.get();
        if (vertx.isClustered()) { // the cluster's model may be newer: the usual path decides
          model.close();
          return loadNewestHere();
        }
        return install(model.metadata(), model.version(), Future.succeededFuture(model), System.nanoTime());
      });
    }
    return loadNewestHere();
  }

  private Future<Void> loadNewestHere() {
    Future<Optional<JsonObject>> local = vertx.executeBlocking(() -> catalog.repository().newestServable());
    Future<JsonObject> shared = vertx.isClustered() ? catalog.current() : Future.succeededFuture();
    return Future.all(local, shared).compose(both -> {
      JsonObject best = local.result().orElse(null);
      JsonObject fromCluster = shared.result();
      if (fromCluster != null && (best == null || ModelCatalog.isNewer(fromCluster, best))) {
        best = fromCluster;
      }
      if (best == null) {
        LOG.info("No model artifact in {} yet: waiting for one", catalog.repository().directory());
        return Future.succeededFuture();
      }
      JsonObject chosen = best;
      boolean shareLocal = vertx.isClustered() && chosen != fromCluster
          && (fromCluster == null || !fromCluster.getString("version").equals(chosen.getString("version")));
      return swapTo(chosen).compose(v -> {
        if (!shareLocal) {
          return Future.succeededFuture();
        }
        LOG.info("Sharing local model {} with the cluster (newer than the cluster's)", chosen.getString("version"));
        return catalog.announce(chosen);
      });
    });
  }

  /** Loads the given artifact (fetching it from the cluster if needed) and makes it current. */
  Future<Void> swapTo(JsonObject metadata) {
    OnnxModel current = served();
    String version;
    try {
      version = ModelVersion.of(metadata).toString();
    } catch (ModelVersion.InvalidModelVersion e) {
      LOG.warn("Ignoring a model announcement: {}", e.getMessage());
      return Future.succeededFuture();
    }
    if (current != null && !ModelCatalog.isNewer(metadata, current.metadata())
        || current != null && current.version().equals(version)
        || version.equals(loadingVersion)) {
      return Future.succeededFuture();
    }
    long started = System.nanoTime();
    // What is loaded is this node's own copy, or one whose signature and hashes verified.
    return tracked(install(metadata, version, catalog.ensureLocal(metadata)
        .compose(trusted -> vertx.executeBlocking(() ->
            catalog.repository().loadOnnx(trusted, batcher.lanes(), settings.inference().threadsPerLane()))),
        started));
  }

  /** Warms up the model being loaded and makes it current (unless a newer one won meanwhile). */
  private Future<Void> install(JsonObject metadata, String version, Future<OnnxModel> loading, long started) {
    loadingVersion = version;
    return loading
        .compose(loaded -> Future.fromCompletionStage(batcher.warmUp(loaded), context).map(loaded)
            .onFailure(e -> loaded.retire()))
        .map(loaded -> {
          OnnxModel now = served();
          // Swaps complete on this event loop, one at a time: versions only move forward.
          if (now != null && !ModelCatalog.isNewer(metadata, now.metadata())) {
            loaded.retire();
            return null;
          }
          batcher.swap(loaded); // the model it replaces is freed once the batches running on it end
          return loaded;
        })
        .onSuccess(loaded -> {
          if (loaded != null) {
            LOG.info("Model {} loaded in {} ms (test accuracy {})", loaded.version(),
                (System.nanoTime() - started) / 1_000_000, metadata.getValue("accuracy"));
            vertx.eventBus().publish(Addresses.MODEL_LOADED, loaded.metadata());
          }
        })
        .onFailure(e -> {
          if (!(e instanceof ModelCatalog.ModelRefused)) { // refusals are logged (once) by the catalog
            LOG.error("Model {} could not be loaded: {}", version, e.getMessage());
          }
        })
        .onComplete(done -> {
          if (version.equals(loadingVersion)) {
            loadingVersion = null;
          }
        })
        .mapEmpty();
  }
}
