package cifarserve.training;

import cifarserve.data.CifarClasses;
import cifarserve.data.CifarImages;
import cifarserve.model.Normalization;
import java.util.Arrays;
import java.util.Random;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** The training minibatches: a shuffled order, and standardised images with CIFAR's augmentations. */
final class Minibatches {
  private Minibatches() {
  }

  static int[] shuffledIndices(int size, Random random) {
    int[] order = new int[size];
    for (int i = 0; i < size; i++) {
      order[i] = i;
    }
    for (int i = size - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    return order;
  }

  /**
   * One minibatch: standardised images (randomly mirrored and shifted by up to {@code cropPadding}
   * pixels when asked, as CIFAR's "pad and random crop") and one-hot labels.
   */
  static DataSet batch(CifarImages images, int[] order, int from, int batchSize, boolean flip, int cropPadding,
                       Random random) {
    int count = Math.min(batchSize, order.length - from);
    byte[] pixels = new byte[count * CifarImages.PIXELS_PER_IMAGE];
    float[] labels = new float[count * CifarClasses.COUNT];
    for (int i = 0; i < count; i++) {
      int index = order[from + i];
      int offset = i * CifarImages.PIXELS_PER_IMAGE;
      if (cropPadding > 0) {
        int span = 2 * cropPadding + 1;
        shifted(images.pixels(), index * CifarImages.PIXELS_PER_IMAGE, pixels, offset,
            random.nextInt(span) - cropPadding, random.nextInt(span) - cropPadding);
      } else {
        System.arraycopy(images.pixels(), index * CifarImages.PIXELS_PER_IMAGE, pixels, offset,
            CifarImages.PIXELS_PER_IMAGE);
      }
      if (flip && random.nextBoolean()) {
        mirror(pixels, offset);
      }
      labels[i * CifarClasses.COUNT + images.label(index)] = 1f;
    }
    float[] features = Normalization.fromBytes(pixels, 0, count);
    return new DataSet(
        Nd4j.create(features, new long[] {count, CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE}, 'c'),
        Nd4j.create(labels, new long[] {count, CifarClasses.COUNT}, 'c'));
  }

  /**
   * Copies one CHW image moved by (dx, dy) pixels, zero (black) where it moved in from outside: the same
   * as a 32x32 crop at offset (padding + dx, padding + dy) of the image zero-padded on every side.
   */
  static void shifted(byte[] source, int sourceOffset, byte[] target, int targetOffset, int dx, int dy) {
    int side = CifarImages.SIDE;
    Arrays.fill(target, targetOffset, targetOffset + CifarImages.PIXELS_PER_IMAGE, (byte) 0);
    int fromX = Math.max(0, -dx);
    int toX = Math.min(side, side - dx);
    if (fromX >= toX) {
      return;
    }
    for (int c = 0; c < CifarImages.CHANNELS; c++) {
      for (int y = Math.max(0, -dy); y < Math.min(side, side - dy); y++) {
        int plane = c * side * side;
        System.arraycopy(source, sourceOffset + plane + (y + dy) * side + fromX + dx,
            target, targetOffset + plane + y * side + fromX, toX - fromX);
      }
    }
  }

  /** Horizontal flip of one CHW image in place: a label-preserving augmentation for CIFAR-10. */
  static void mirror(byte[] chw, int offset) {
    int side = CifarImages.SIDE;
    for (int row = 0; row < CifarImages.CHANNELS * side; row++) {
      int start = offset + row * side;
      for (int left = 0, right = side - 1; left < right; left++, right--) {
        byte tmp = chw[start + left];
        chw[start + left] = chw[start + right];
        chw[start + right] = tmp;
      }
    }
  }
}
