package cifarserve.inference;

import cifarserve.data.CifarClasses;
import io.vertx.core.buffer.Buffer;

/** The inference reply: a count, then count x 10 float probabilities. */
public final class Predictions {
  public static final String MODEL_VERSION_HEADER = "model-version";

  private Predictions() {
  }

  public static Buffer encode(float[][] rows) {
    Buffer buffer = Buffer.buffer(4 + rows.length * CifarClasses.COUNT * 4).appendInt(rows.length);
    for (float[] row : rows) {
      for (float p : row) {
        buffer.appendFloat(p);
      }
    }
    return buffer;
  }

  public static float[][] decode(Buffer buffer) {
    int count = buffer.getInt(0);
    float[][] rows = new float[count][CifarClasses.COUNT];
    int at = 4;
    for (int i = 0; i < count; i++) {
      for (int c = 0; c < CifarClasses.COUNT; c++) {
        rows[i][c] = buffer.getFloat(at);
        at += 4;
      }
    }
    return rows;
  }
}
