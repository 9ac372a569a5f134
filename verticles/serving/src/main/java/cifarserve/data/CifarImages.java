package cifarserve.data;

/**
 * A batch of CIFAR-10 images in the dataset's own layout: each record is 3072 unsigned bytes,
 * the 1024 red pixels, then green, then blue (row-major 32x32), i.e. CHW order.
 */
public final class CifarImages {
  public static final int SIDE = 32;
  public static final int CHANNELS = 3;
  public static final int PIXELS_PER_IMAGE = CHANNELS * SIDE * SIDE;
  public static final int RECORD_BYTES = 1 + PIXELS_PER_IMAGE;

  private final byte[] labels;
  private final byte[] pixels;

  public CifarImages(byte[] labels, byte[] pixels) {
    if ((long) labels.length * PIXELS_PER_IMAGE != pixels.length) {
      throw new IllegalArgumentException(
          "pixels hold " + pixels.length + " bytes, expected " + labels.length + " x " + PIXELS_PER_IMAGE);
    }
    this.labels = labels;
    this.pixels = pixels;
  }

  public int size() {
    return labels.length;
  }

  public int label(int index) {
    return labels[index];
  }

  /** Shared backing array: callers must not modify it. */
  public byte[] pixels() {
    return pixels;
  }

  public byte[] labels() {
    return labels;
  }

  /** A copy of one image's 3072 CHW bytes. */
  public byte[] image(int index) {
    byte[] out = new byte[PIXELS_PER_IMAGE];
    System.arraycopy(pixels, index * PIXELS_PER_IMAGE, out, 0, PIXELS_PER_IMAGE);
    return out;
  }

  /** The first {@code count} images (or all, if fewer), without copying when nothing is cut. */
  public CifarImages limit(int count) {
    if (count >= size()) {
      return this;
    }
    byte[] l = new byte[count];
    byte[] p = new byte[count * PIXELS_PER_IMAGE];
    System.arraycopy(labels, 0, l, 0, count);
    System.arraycopy(pixels, 0, p, 0, p.length);
    return new CifarImages(l, p);
  }

  public static CifarImages concat(java.util.List<CifarImages> parts) {
    int total = parts.stream().mapToInt(CifarImages::size).sum();
    byte[] l = new byte[total];
    byte[] p = new byte[total * PIXELS_PER_IMAGE];
    int at = 0;
    for (CifarImages part : parts) {
      System.arraycopy(part.labels, 0, l, at, part.size());
      System.arraycopy(part.pixels, 0, p, at * PIXELS_PER_IMAGE, part.pixels.length);
      at += part.size();
    }
    return new CifarImages(l, p);
  }
}
