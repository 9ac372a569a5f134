package cifarserve.inference;

import cifarserve.data.CifarImages;
import cifarserve.model.OnnxModel;
import io.vertx.core.buffer.Buffer;
import java.nio.FloatBuffer;

/**
 * N CHW images as they travel on the event bus: a 1-byte element type, a 4-byte count, then the
 * pixels, either unsigned bytes 0-255 ({@link #UINT8}) or big-endian floats 0-1 ({@link #FLOAT32}).
 * A plain {@link Buffer} body works the same locally and across a cluster.
 */
public record ImageBatch(byte elementType, int count, Buffer pixels) {
  public static final byte UINT8 = 0;
  public static final byte FLOAT32 = 1;
  private static final int HEADER = 5;

  public ImageBatch {
    int expected = count * CifarImages.PIXELS_PER_IMAGE * (elementType == FLOAT32 ? 4 : 1);
    if (count < 1 || pixels.length() != expected) {
      throw new IllegalArgumentException("batch of " + count + " images needs " + expected + " bytes, got "
          + pixels.length());
    }
  }

  public static ImageBatch ofBytes(byte[] chw) {
    return new ImageBatch(UINT8, chw.length / CifarImages.PIXELS_PER_IMAGE, Buffer.buffer(chw));
  }

  public static ImageBatch ofUnitFloats(float[] chw) {
    Buffer buffer = Buffer.buffer(chw.length * 4);
    for (float v : chw) {
      buffer.appendFloat(v);
    }
    return new ImageBatch(FLOAT32, chw.length / CifarImages.PIXELS_PER_IMAGE, buffer);
  }

  public Buffer encode() {
    return Buffer.buffer(HEADER + pixels.length()).appendByte(elementType).appendInt(count).appendBuffer(pixels);
  }

  public static ImageBatch decode(Buffer buffer) {
    if (buffer == null || buffer.length() < HEADER) {
      throw new IllegalArgumentException("not an image batch");
    }
    return new ImageBatch(buffer.getByte(0), buffer.getInt(1), buffer.slice(HEADER, buffer.length()));
  }

  /** These images as the model's input (CHW, 0-1), written at {@code out}'s position. */
  public void writeUnitInto(FloatBuffer out) {
    if (elementType == UINT8) {
      OnnxModel.putUnitPixels(pixels.getBytes(), 0, pixels.length(), out);
      return;
    }
    int values = count * CifarImages.PIXELS_PER_IMAGE;
    for (int i = 0; i < values; i++) {
      out.put(pixels.getFloat(i * 4));
    }
  }
}
