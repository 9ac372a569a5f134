package cifarserve.training;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Two costs of DL4J's training step that change no number, removed while a network trains:
 * <ul>
 *   <li>Each convolution ran twice per step: DL4J recomputes a layer's pre-activation in backprop unless
 *   its forward cache is on ({@link CacheMode}; off by default). With it on, the backward pass reuses
 *   the forward pass's output (same input, same weights, same oneDNN primitive: the same bits).</li>
 *   <li>ReLU's backward pass ({@code relu_bp}) runs a {@code std::function} call per element in libnd4j
 *   (~6 % of a step's samples). {@link Relu} computes the same {@code z > 0 ? eps : 0} with two
 *   vectorised in-place ops: {@code step(z)} then {@code × eps} ({@code eps × 1} is {@code eps}, and
 *   {@code eps × 0} is a zero that adds nothing to any sum downstream).</li>
 * </ul>
 * Training loss and weights are bit-for-bit those of the stock path (FastBackpropTest). Both are switched
 * on only around the minibatches ({@link #during}): the configuration JSON a model zip stores, the
 * architecture id and everything that evaluates or exports see the stock network. The trainer and the
 * bench's training probe use it the same way.
 */
public final class FastBackprop implements AutoCloseable {
  private final MultiLayerNetwork network;

  private FastBackprop(MultiLayerNetwork network) {
    this.network = network;
    setCacheMode(network, CacheMode.DEVICE);
    for (NeuralNetConfiguration conf : network.getLayerWiseConfigurations().getConfs()) {
      if (conf.getLayer() instanceof BaseLayer layer && layer.getActivationFn().getClass() == ActivationReLU.class
          && isPlainRelu((ActivationReLU) layer.getActivationFn())) {
        layer.setActivationFn(new Relu());
      }
    }
  }

  /** Switches the fast path on until {@link #close()}. */
  public static FastBackprop during(MultiLayerNetwork network) {
    return new FastBackprop(network);
  }

  /** Puts the stock configuration back (the runtime layers read it from the same objects). */
  @Override
  public void close() {
    setCacheMode(network, CacheMode.NONE);
    for (NeuralNetConfiguration conf : network.getLayerWiseConfigurations().getConfs()) {
      if (conf.getLayer() instanceof BaseLayer layer && layer.getActivationFn() instanceof Relu) {
        layer.setActivationFn(new ActivationReLU());
      }
    }
  }

  private static void setCacheMode(MultiLayerNetwork network, CacheMode mode) {
    // The network-wide mode opens the cache's workspace; the layers' mode makes them fill and read it.
    network.getLayerWiseConfigurations().setCacheMode(mode);
    network.setCacheMode(mode);
  }

  private static boolean isPlainRelu(ActivationReLU relu) {
    // No max, threshold or negative slope: the plain max(0, z) the study's network uses.
    return relu.getMax() == null && relu.getThreshold() == null && relu.getNegativeSlope() == null;
  }

  /** ReLU with a vectorised backward pass; the forward pass is ActivationReLU's. */
  public static final class Relu extends ActivationReLU {
    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
      assertShape(in, epsilon);
      // DL4J's contract lets backprop overwrite its input (the pre-activation, not needed afterwards;
      // ND4J's own sigmoid and tanh do the same).
      Nd4j.getExecutioner().exec(new Step(in, in));
      in.muli(epsilon);
      return new Pair<>(in, null);
    }
  }
}
