package cifarserve.model;

import cifarserve.data.CifarImages;

/**
 * Pixel preprocessing shared by training and every inference path: bytes 0-255 (or floats 0-1) are
 * standardised per channel with the CIFAR-10 training-set mean and standard deviation. Standardised
 * inputs let plain SGD with momentum at lr 0.01 converge much faster than raw 0-255 values do.
 */
public final class Normalization {
  static final float[] MEAN = {0.4914f, 0.4822f, 0.4465f};
  static final float[] STD = {0.2470f, 0.2435f, 0.2616f};
  private static final int PLANE = CifarImages.SIDE * CifarImages.SIDE;

  private Normalization() {
  }

  /** {@code count} CHW byte images from {@code offset} (in images) into standardised floats. */
  public static float[] fromBytes(byte[] chw, int offsetImages, int count) {
    float[] out = new float[count * CifarImages.PIXELS_PER_IMAGE];
    fromBytesInto(chw, offsetImages, count, out, 0);
    return out;
  }

  /** The same, written into {@code out} from image {@code outOffsetImages} (no intermediate array). */
  public static void fromBytesInto(byte[] chw, int offsetImages, int count, float[] out, int outOffsetImages) {
    int src = offsetImages * CifarImages.PIXELS_PER_IMAGE;
    int dst = outOffsetImages * CifarImages.PIXELS_PER_IMAGE;
    int values = count * CifarImages.PIXELS_PER_IMAGE;
    for (int i = 0; i < values; i++) {
      int channel = (i / PLANE) % CifarImages.CHANNELS;
      out[dst + i] = ((chw[src + i] & 0xff) / 255f - MEAN[channel]) / STD[channel];
    }
  }

  /** Standardises, in place, CHW floats on the 0-1 scale. */
  public static float[] fromUnitFloats(float[] chw) {
    for (int i = 0; i < chw.length; i++) {
      int channel = (i / PLANE) % CifarImages.CHANNELS;
      chw[i] = (chw[i] - MEAN[channel]) / STD[channel];
    }
    return chw;
  }
}
