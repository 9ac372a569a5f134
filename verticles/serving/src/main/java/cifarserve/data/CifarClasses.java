package cifarserve.data;

import java.util.List;

/** The ten CIFAR-10 classes, in label order (batches.meta.txt). */
public final class CifarClasses {
  public static final List<String> NAMES = List.of(
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");
  public static final int COUNT = NAMES.size();

  private CifarClasses() {
  }

  public static String name(int index) {
    return NAMES.get(index);
  }
}
