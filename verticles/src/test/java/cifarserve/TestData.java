package cifarserve;

import cifarserve.data.CifarDataset;
import cifarserve.data.CifarImages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The real CIFAR-10 files for tests: CIFAR_DIR if set, else the (fetched on first use) cache. */
public final class TestData {
  private static CifarDataset dataset;
  private static CifarImages testImages;

  private TestData() {
  }

  public static synchronized CifarDataset dataset() {
    if (dataset == null) {
      String dir = System.getenv("CIFAR_DIR");
      try {
        dataset = CifarDataset.open(dir == null || dir.isBlank() ? null : Path.of(dir), CifarDataset.defaultCacheDir(),
            System.out::println);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return dataset;
  }

  /** All 10,000 test images (read once per JVM). */
  public static synchronized CifarImages testImages() {
    if (testImages == null) {
      try {
        testImages = dataset().testImages(0);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return testImages;
  }
}
