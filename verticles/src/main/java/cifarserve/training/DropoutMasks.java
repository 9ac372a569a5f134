package cifarserve.training;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.DropOutInverted;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The masks of ND4J's {@code DropOutInverted} op, bit for bit, computed on the JVM. libnd4j draws them
 * from a counter-based generator: element {@code i} of a mask depends only on the stream's two state
 * words and {@code i}, and after an op of {@code n} elements the node word moves on by a fixed function
 * of {@code n}. libnd4j evaluates it with a call through {@code std::function} per element (~10 % of a
 * training step's samples at batch 32); this loop needs about a third of the wall time on one thread.
 * {@link #matchesNd4j} checks it against the op itself before the trainer relies on it.
 */
final class DropoutMasks {
  /** Elements computed per bulk copy into the off-heap mask: 64 KB, stays in L2. */
  private static final int CHUNK = 16 * 1024;

  private DropoutMasks() {
  }

  /**
   * Writes the mask {@code DropOutInverted(ones, retain)} would produce for the stream's current state
   * into {@code mask} ({@code length} elements from its position: 0 with probability {@code 1 - retain},
   * else {@code 1 / retain}), then advances the stream exactly as the op does.
   */
  static void fill(FloatBuffer mask, long length, float retain, Random stream) {
    long root = stream.rootState();
    long node = stream.nodeState();
    int dropFrom = dropThreshold(retain);
    float kept = 1.0f / retain;
    float[] chunk = new float[(int) Math.min(CHUNK, length)];
    for (long from = 0; from < length; from += chunk.length) {
      int count = (int) Math.min(chunk.length, length - from);
      for (int j = 0; j < count; j++) {
        int mantissa = uniform32(root, node, from + j) >>> 9;
        // kept where the uniform draw is below retain: (mantissa - dropFrom) is negative exactly then.
        chunk[j] = ((mantissa - dropFrom) >>> 31) * kept;
      }
      mask.put(chunk, 0, count);
    }
    stream.setStates(root, advance(node, length));
  }

  /**
   * libnd4j's 32-bit draw for element {@code index}: the two state words mixed with the index,
   * folded to the low half, then a multiply-rotate-multiply scramble.
   */
  static int uniform32(long root, long node, long index) {
    long s0 = root | (index + 2) * (node + 24243287L);
    long s1 = node ^ (index + 2) * (s0 + 723829L);
    return Integer.rotateLeft((int) (s1 ^ s0) * 0x9E3779BB, 5) * 5;
  }

  /**
   * The float libnd4j compares with {@code retain} is {@code 1.m - 1}, where {@code m} is the draw's top 23
   * bits: monotonic in {@code m}, so "uniform >= retain" is "m >= the first m whose float reaches retain".
   */
  static int dropThreshold(float retain) {
    int low = 0;
    int high = 1 << 23;
    while (low < high) {
      int mid = (low + high) >>> 1;
      if (Float.intBitsToFloat(0x3f800000 | mid) - 1.0f >= retain) {
        high = mid;
      } else {
        low = mid + 1;
      }
    }
    return low;
  }

  /** libnd4j's {@code rewindH(steps)}: the node word after an op over {@code steps} elements. */
  static long advance(long node, long steps) {
    int s0 = (int) node;
    int s1 = (int) (node >>> 32) ^ s0;
    int low = Integer.rotateLeft(s0, 26) ^ s1 ^ (s1 << 9);
    int high = Integer.rotateLeft(s1, 13);
    long next = (low & 0xFFFFFFFFL) | ((long) high << 32);
    return next ^ (steps ^ 0xDEADBEEFL);
  }

  /**
   * Whether this replica still matches the ND4J it runs with: a mask of an odd length from a private
   * stream (the global one is not touched), compared bit for bit with the op's, and the state it leaves.
   */
  static boolean matchesNd4j() {
    long length = 3 * CHUNK + 7;
    float retain = 0.75f;
    try (Random opStream = Nd4j.getRandomFactory().getNewRandomInstance(20261202L);
        Random ownStream = Nd4j.getRandomFactory().getNewRandomInstance(20261202L)) {
      INDArray expected = Nd4j.ones(DataType.FLOAT, length);
      Nd4j.getExecutioner().exec(new DropOutInverted(expected, expected, retain), opStream);
      FloatBuffer own = FloatBuffer.allocate((int) length);
      fill(own, length, retain, ownStream);
      float[] ownMask = own.array();
      float[] opMask = expected.toFloatVector();
      return java.util.Arrays.equals(ownMask, opMask)
          && opStream.rootState() == ownStream.rootState() && opStream.nodeState() == ownStream.nodeState();
    } catch (Exception e) {
      return false;
    }
  }
}
