package cifarserve.inference;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.config.ServiceConfig;
import cifarserve.config.ServiceSettings;
import cifarserve.model.ArtifactSignature;
import cifarserve.model.ArtifactStore;
import cifarserve.model.ModelCatalog;
import cifarserve.model.OnnxModel;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A stop must not outrun a model load: {@link ModelSwitch#settled} waits for the loads under way. */
@Tag("unit")
class ModelSwitchTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void settledWaitsForTheLoadUnderWayAndThenCompletes(@TempDir Path directory) throws Exception {
    JsonObject config = ServiceConfig.defaults().put("modelDir", directory.toString());
    ServiceSettings settings = ServiceSettings.of(config);
    Batcher batcher = new Batcher(new Batcher.Settings(8, 0, 16, 1), BatchListener.NONE);
    CompletableFuture<Optional<OnnxModel>> preload = new CompletableFuture<>();
    Context context = vertx.getOrCreateContext();
    ModelSwitch models = onContext(context, () -> new ModelSwitch(vertx, context, settings,
        new ModelCatalog(vertx, new ArtifactStore(directory), ArtifactSignature.from(config)), batcher, preload));

    assertThat(onContext(context, () -> models.settled()).isComplete()).as("nothing under way").isTrue();

    Future<Void> initial = onContext(context, models::loadInitial);
    Future<Void> settled = onContext(context, models::settled);
    Thread.sleep(300); // the preload (the model file being read, its session built) has not finished
    assertThat(settled.isComplete()).as("settled while the load is under way").isFalse();

    preload.complete(Optional.empty());
    settled.await(10, TimeUnit.SECONDS);
    assertThat(initial.isComplete()).isTrue();
    assertThat(onContext(context, models::settled).isComplete()).as("nothing under way any more").isTrue();
    batcher.close();
  }

  private static <T> T onContext(Context context, java.util.function.Supplier<T> action) throws Exception {
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> result.complete(action.get()));
    return result.future().await(10, TimeUnit.SECONDS);
  }
}
