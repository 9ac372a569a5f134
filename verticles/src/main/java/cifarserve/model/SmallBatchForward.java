package cifarserve.model;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Optional;
import org.deeplearning4j.nn.api.FwdPassType;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.layers.BaseOutputLayer;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inference for a single image, with the fully connected tail of the network evaluated as
 * matrix-vector products.
 *
 * <p>Why: DL4J multiplies a dense layer's input by its weights with GEMM whatever the batch size, and
 * OpenBLAS 0.3.19 (the build ND4J M2.1 ships) packs the whole right-hand matrix before multiplying.
 * For our 4,096 x 512 dense layer that is 8 MB copied per call: 1.5-3 ms for a single image, a third of
 * its forward pass, against ~0.4 ms for GEMV (measured: p50 6.6 -> 5.3 ms per image in-process; see
 * docs/performance.md). Convolutions and pooling still run through DL4J's own layers (and their
 * oneDNN helpers), so only the arithmetic of the dense layers changes, not the model: results equal
 * {@code network.output} up to float rounding (tested).
 *
 * <p>Used only for networks whose tail is dense layers ending in an output layer, without layer norm;
 * otherwise {@link #of} returns empty and callers use {@code network.output}. Not thread-safe (the
 * network's layers keep per-call state), like the network itself.
 */
public final class SmallBatchForward {
  /**
   * From 2 images on, one GEMM (its packing shared by the rows) is as fast as a GEMV per image, and at 4
   * it is ~1 ms faster (measured), so only single images take this path.
   */
  public static final int MAX_IMAGES = 1;

  /**
   * DL4J's own forward pass up to a given layer, with its workspaces (what {@code output()} runs):
   * intermediate activations are reused across calls instead of becoming off-heap garbage per image,
   * which otherwise grew a serving JVM's RSS to its JavaCPP limit (1.6 GB measured, 0.7 GB with it).
   */
  private static final Method OUTPUT_OF_LAYER = outputOfLayerMethod();

  private final MultiLayerNetwork network;
  private final int firstDense;
  private final InputPreProcessor flatten;
  private final BaseLayer<?>[] tail;

  private SmallBatchForward(MultiLayerNetwork network, int firstDense, BaseLayer<?>[] tail) {
    this.network = network;
    this.firstDense = firstDense;
    this.flatten = network.getLayerWiseConfigurations().getInputPreProcess(firstDense);
    this.tail = tail;
  }

  private static Method outputOfLayerMethod() {
    try {
      Method method = MultiLayerNetwork.class.getDeclaredMethod("outputOfLayerDetached", boolean.class,
          FwdPassType.class, int.class, INDArray.class, INDArray.class, INDArray.class, MemoryWorkspace.class);
      method.setAccessible(true);
      return method;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null; // another DL4J version: callers keep network.output
    }
  }

  /** The fast path for {@code network}, if its layers end in a plain feed-forward tail. */
  public static Optional<SmallBatchForward> of(MultiLayerNetwork network) {
    if (OUTPUT_OF_LAYER == null) {
      return Optional.empty();
    }
    Layer[] layers = network.getLayers();
    int first = layers.length;
    while (first > 0 && isPlainFeedForward(layers[first - 1])) {
      first--;
    }
    // Need at least one layer in front (the convolutions) and a tail that ends in the output layer.
    if (first < 1 || first == layers.length || !(layers[layers.length - 1] instanceof BaseOutputLayer)) {
      return Optional.empty();
    }
    BaseLayer<?>[] tail = new BaseLayer<?>[layers.length - first];
    for (int i = first; i < layers.length; i++) {
      tail[i - first] = (BaseLayer<?>) layers[i];
      if (i > first && network.getLayerWiseConfigurations().getInputPreProcess(i) != null) {
        return Optional.empty();
      }
    }
    return Optional.of(new SmallBatchForward(network, first, tail));
  }

  private static boolean isPlainFeedForward(Layer layer) {
    if (!(layer instanceof DenseLayer || layer instanceof org.deeplearning4j.nn.layers.OutputLayer)) {
      return false;
    }
    BaseLayer<?> base = (BaseLayer<?>) layer;
    return !base.hasLayerNorm() && base.layerConf().getWeightNoise() == null;
  }

  /** Class probabilities, one row per image, for {@code input} of at most {@link #MAX_IMAGES} images. */
  public INDArray output(INDArray input) {
    int count = (int) input.size(0);
    if (count < 1 || count > MAX_IMAGES) {
      throw new IllegalArgumentException("1.." + MAX_IMAGES + " images, got " + count);
    }
    INDArray features = featuresBeforeDense(input);
    INDArray flat = flatten == null ? features : flatten.preProcess(features, count, LayerWorkspaceMgr.noWorkspaces());
    INDArray activations = flat.reshape('c', count, flat.length() / count);
    for (BaseLayer<?> layer : tail) {
      INDArray next = denseForward(layer, activations, count);
      release(activations);
      activations = next;
    }
    release(flat);
    release(features);
    return activations;
  }

  private INDArray featuresBeforeDense(INDArray input) {
    try {
      return (INDArray) OUTPUT_OF_LAYER.invoke(network, false, FwdPassType.STANDARD, firstDense - 1, input, null,
          null, null);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      throw cause instanceof RuntimeException runtime ? runtime : new IllegalStateException(cause);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Frees an array's off-heap buffer now rather than at some later GC. {@code closeable()} is false for
   * views and for arrays already released, so passing the same array twice (or a view of one) is safe.
   */
  private static void release(INDArray array) {
    if (array != null && array.closeable()) {
      array.close();
    }
  }

  private static INDArray denseForward(BaseLayer<?> layer, INDArray input, int count) {
    INDArray weights = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
    long outputs = weights.size(1);
    INDArray z = Nd4j.create(DataType.FLOAT, new long[] {count, outputs}, 'c');
    for (int i = 0; i < count; i++) {
      // Rank-1 left operand: ND4J's matmul dispatches vector x matrix to GEMV (no packing).
      Nd4j.matmul(input.getRow(i), weights, z.getRow(i), false, false, false);
    }
    if (layer.hasBias()) {
      z.addiRowVector(layer.getParam(DefaultParamInitializer.BIAS_KEY));
    }
    return layer.layerConf().getActivationFn().getActivation(z, false);
  }
}
