package cifarserve.inference;

import cifarserve.data.CifarClasses;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

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

  /** Index of the largest probability. */
  public static int argMax(float[] probabilities) {
    int best = 0;
    for (int i = 1; i < probabilities.length; i++) {
      if (probabilities[i] > probabilities[best]) {
        best = i;
      }
    }
    return best;
  }

  /**
   * Class name to probability. Written as floats (what the network computes, ~9 significant digits):
   * widened to double they print 17 digits of which 8 are noise, and those cost every client more to
   * read (a load tester counting accuracy spent 16 % of its CPU converting them).
   */
  public static JsonObject probabilitiesJson(float[] probabilities) {
    JsonObject out = new JsonObject();
    for (int i = 0; i < CifarClasses.COUNT; i++) {
      out.put(CifarClasses.name(i), probabilities[i]);
    }
    return out;
  }
}
