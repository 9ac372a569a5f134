package cifarserve.training;

import java.util.IdentityHashMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.random.impl.DropOutInverted;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Three costs of DL4J's training step that change no number, removed while a network trains:
 * <ul>
 *   <li>Each convolution ran twice per step: DL4J recomputes a layer's pre-activation in backprop unless
 *   its forward cache is on ({@link CacheMode}; off by default). With it on, the backward pass reuses
 *   the forward pass's output (same input, same weights, same oneDNN primitive: the same bits).</li>
 *   <li>ReLU's backward pass ({@code relu_bp}) runs a {@code std::function} call per element in libnd4j
 *   (~6 % of a step's samples). {@link Relu} computes the same {@code z > 0 ? eps : 0} with two
 *   vectorised in-place ops: {@code step(z)} then {@code × eps} ({@code eps × 1} is {@code eps}, and
 *   {@code eps × 0} is a zero that adds nothing to any sum downstream).</li>
 *   <li>Dropout's masks: libnd4j draws them with another per-element {@code std::function} call (~10 % of
 *   a step's samples at batch 32). {@link MaskedDropout} computes the same masks from the same stream
 *   state on the JVM ({@link DropoutMasks}, checked against the op once per JVM; if it ever differs,
 *   the stock dropout stays).</li>
 * </ul>
 * Training loss and weights are bit-for-bit those of the stock path (FastBackpropTest). All three are
 * switched on only around the minibatches ({@link #during}): the configuration JSON a model zip stores, the
 * architecture id and everything that evaluates or exports see the stock network. The trainer and the
 * bench's training probe use it the same way.
 */
public final class FastBackprop implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FastBackprop.class);
  /** Whether {@link DropoutMasks} reproduces this ND4J's masks: checked once, on first use. */
  private static volatile Boolean masksMatch;

  private final MultiLayerNetwork network;
  /** The stock dropout each swapped layer had, put back on close. */
  private final Map<Layer, IDropout> stockDropouts = new IdentityHashMap<>();

  private FastBackprop(MultiLayerNetwork network) {
    this.network = network;
    setCacheMode(network, CacheMode.DEVICE);
    boolean ownMasks = ownMasksMatch();
    for (NeuralNetConfiguration conf : network.getLayerWiseConfigurations().getConfs()) {
      if (conf.getLayer() instanceof BaseLayer layer && layer.getActivationFn().getClass() == ActivationReLU.class
          && isPlainRelu((ActivationReLU) layer.getActivationFn())) {
        layer.setActivationFn(new Relu());
      }
      Layer layer = conf.getLayer();
      if (ownMasks && layer.getIDropout() instanceof Dropout dropout && dropout.getClass() == Dropout.class
          && dropout.getPSchedule() == null) {
        stockDropouts.put(layer, dropout);
        layer.setIDropout(new MaskedDropout(dropout.getP()));
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
    stockDropouts.forEach(Layer::setIDropout);
    stockDropouts.clear();
  }

  private static boolean ownMasksMatch() {
    if (masksMatch == null) {
      masksMatch = DropoutMasks.matchesNd4j();
      if (!masksMatch) {
        LOG.warn("dropout masks computed on the JVM differ from this ND4J's DropOutInverted: using ND4J's (slower)");
      }
    }
    return masksMatch;
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

  /**
   * DL4J's inverted dropout ({@link Dropout} with a fixed retain probability) with the mask computed by
   * {@link DropoutMasks}: the same mask, the same multiply, the same stream state afterwards.
   */
  public static final class MaskedDropout implements IDropout {
    private final double retain;
    private transient INDArray mask;

    MaskedDropout(double retain) {
      this.retain = retain;
    }

    @Override
    public INDArray applyDropout(INDArray input, INDArray output, int iteration, int epoch, LayerWorkspaceMgr workspaceMgr) {
      // The stock path's arrays: an input-workspace mask shaped like the output, then input x mask.
      mask = workspaceMgr.createUninitialized(ArrayType.INPUT, output.dataType(), output.shape(), output.ordering());
      if (mask.dataType() == DataType.FLOAT && mask.offset() == 0 && mask.data().offset() == 0) {
        DropoutMasks.fill(mask.data().asNioFloat(), mask.length(), (float) retain, Nd4j.getRandom());
      } else { // not this network's float arrays: ND4J's op, as the stock dropout does
        mask.assign(1.0);
        Nd4j.getExecutioner().exec(new DropOutInverted(mask, mask, retain));
      }
      INDArray in = input.dataType() == output.dataType() ? input : input.castTo(output.dataType());
      Nd4j.getExecutioner().exec(new MulOp(in, mask, output));
      return output;
    }

    @Override
    public INDArray backprop(INDArray gradAtOutput, INDArray gradAtInput, int iteration, int epoch) {
      // As the stock backprop: the mask holds 0 or 1/retain, so the gradient is multiplied by it.
      Nd4j.getExecutioner().exec(new MulOp(gradAtOutput, mask, gradAtInput));
      mask = null;
      return gradAtInput;
    }

    @Override
    public void clear() {
      mask = null;
    }

    @Override
    public IDropout clone() {
      return new MaskedDropout(retain);
    }
  }
}
