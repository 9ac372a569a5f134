package cifarserve;

import cifarserve.model.ModelRepository;
import cifarserve.training.Trainer;
import cifarserve.training.TrainingOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * One small model trained for real on CIFAR-10 and shared by the tests of a JVM run: 4,000
 * training images, 2 epochs, evaluated on 1,000 held-out test images. Kept in target/ so a re-run
 * of the suite in the same build does not train again.
 */
public final class TestModels {
  public static final int TRAIN_IMAGES = 4000;
  public static final int EPOCHS = 2;
  public static final int TEST_IMAGES = 1000;
  private static final Path DIR = Path.of("target", "test-models", "shared");
  private static JsonObject metadata;

  private TestModels() {
  }

  public static synchronized ModelRepository repository() {
    ModelRepository repository = new ModelRepository(DIR);
    if (metadata == null) {
      try {
        var existing = repository.newest();
        if (existing.isPresent()) {
          metadata = existing.get();
        } else {
          Main.enableEngineHelpers();
          TrainingOptions options = new TrainingOptions(EPOCHS, TRAIN_IMAGES, TEST_IMAGES, 64, 7L, true, false,
              0.01, TrainingOptions.CONSTANT, 0, 0, 0.0, "TestModels");
          metadata = new Trainer(TestData.dataset(), repository)
              .train(options, p -> { }, () -> false).model().metadata();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return repository;
  }

  public static synchronized JsonObject metadata() {
    repository();
    return metadata.copy();
  }

  public static Path directory() {
    repository();
    return DIR;
  }

  /** Damages an artifact file without changing its size: only its recorded SHA-256 can tell. */
  public static void flipOneByte(Path file) throws IOException {
    byte[] bytes = java.nio.file.Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 0x5a;
    java.nio.file.Files.write(file, bytes);
  }
}
