package cifarserve.data;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Opens the dataset the way the config (and an optional command-line folder) says. */
public final class Datasets {
  private Datasets() {
  }

  public static CifarDataset open(JsonObject config, Path explicitDir, Consumer<String> log) throws IOException {
    Path dir = explicitDir;
    if (dir == null && config.getString("cifarDir") != null) {
      dir = Path.of(config.getString("cifarDir"));
    }
    String cache = config.getString("cifarCacheDir");
    return CifarDataset.open(dir, cache != null ? Path.of(cache) : CifarDataset.defaultCacheDir(), log);
  }
}
