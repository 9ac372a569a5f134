package cifarserve.model;

import cifarserve.data.CifarClasses;
import cifarserve.data.CifarImages;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * The study's network: Conv32-ReLU-Dropout-Conv32-MaxPool2 -> Conv64-ReLU-Dropout-Conv64-MaxPool2
 * -> Dense -> softmax(10), trained with Nesterov momentum at learning rate 0.01.
 *
 * <p>Where the study is silent we chose what trains best on CIFAR-10 (the Keras CIFAR-10 example's
 * well-tested values): ReLU after every convolution (the 2nd and 4th too), 3x3 "same" convolutions,
 * dropout rate 0.25 after the 1st and 3rd convolutions, a 512-unit ReLU dense layer followed by dropout
 * 0.5, He initialisation (suited to ReLU), momentum 0.9 and a small L2 (5e-4) against over-fitting.
 * DL4J applies a layer's {@code dropOut(p)} to that layer's input with retain probability p, so
 * "Conv -> Dropout -> Conv" is the second convolution with {@code dropOut(0.75)}: no separate
 * dropout layer (one copy less per step).
 */
public final class CifarCnn {
  public static final double LEARNING_RATE = 0.01;
  public static final double MOMENTUM = 0.9;
  public static final double L2 = 5e-4;
  public static final int DENSE_WIDTH = 512;
  public static final double CONV_DROPOUT_RATE = 0.25;
  public static final double DENSE_DROPOUT_RATE = 0.5;
  /** 896 + 9,248 + 18,496 + 36,928 + 2,097,664 + 5,130. */
  public static final long PARAMETER_COUNT = 2_168_362L;
  /**
   * Names this exact layer stack (and so the layout of its flat parameter vector), ending in a hash of
   * {@link #configuration}'s JSON. Artifacts that carry it are restored from their coefficients alone:
   * no parsing of the stored JSON configuration, which costs ~0.5 s of a cold start (Jackson and DL4J's
   * polymorphic config classes). ModelTest recomputes the hash, so changing the network without changing
   * this id fails the build instead of misreading weights.
   */
  public static final String ARCHITECTURE_ID = "cifar10-cnn-nchw-c2fce407a000";

  private CifarCnn() {
  }

  public static MultiLayerConfiguration configuration(long seed) {
    return configuration(seed, null);
  }

  /**
   * The network trained with a learning-rate schedule ({@code null}: the study's constant 0.01). The
   * schedule changes only the updater, not the layers or the parameter layout, so
   * {@link #ARCHITECTURE_ID} (hashed from the constant-rate configuration) names both.
   */
  public static MultiLayerConfiguration configuration(long seed, ISchedule learningRate) {
    return new NeuralNetConfiguration.Builder()
        .seed(seed)
        .updater(learningRate == null ? new Nesterovs(LEARNING_RATE, MOMENTUM) : new Nesterovs(learningRate, MOMENTUM))
        .l2(L2)
        .weightInit(WeightInit.RELU)
        .convolutionMode(ConvolutionMode.Same)
        .trainingWorkspaceMode(WorkspaceMode.ENABLED)
        .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
        .list()
        .layer(conv(32).nIn(CifarImages.CHANNELS).build())
        .layer(conv(32).dropOut(1 - CONV_DROPOUT_RATE).build())
        .layer(maxPool())
        .layer(conv(64).build())
        .layer(conv(64).dropOut(1 - CONV_DROPOUT_RATE).build())
        .layer(maxPool())
        .layer(new DenseLayer.Builder().nOut(DENSE_WIDTH).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
            .nOut(CifarClasses.COUNT).activation(Activation.SOFTMAX)
            .dropOut(1 - DENSE_DROPOUT_RATE).build())
        .setInputType(InputType.convolutional(CifarImages.SIDE, CifarImages.SIDE, CifarImages.CHANNELS))
        .build();
  }

  public static MultiLayerNetwork newNetwork(long seed) {
    return newNetwork(seed, null);
  }

  public static MultiLayerNetwork newNetwork(long seed, ISchedule learningRate) {
    MultiLayerNetwork network = new MultiLayerNetwork(configuration(seed, learningRate));
    network.init();
    return network;
  }

  /**
   * The network with the given trained parameters (a flat vector in DL4J's layout, as stored in a model
   * zip's coefficients.bin), ready for inference.
   */
  public static MultiLayerNetwork withParameters(INDArray parameters) {
    if (parameters.length() != PARAMETER_COUNT) {
      throw new IllegalArgumentException("expected " + PARAMETER_COUNT + " parameters for " + ARCHITECTURE_ID
          + ", got " + parameters.length());
    }
    MultiLayerNetwork network = new MultiLayerNetwork(configuration(0));
    network.init(parameters.reshape(1, PARAMETER_COUNT), false);
    return network;
  }

  private static ConvolutionLayer.Builder conv(int filters) {
    return new ConvolutionLayer.Builder(3, 3).stride(1, 1).nOut(filters).activation(Activation.RELU);
  }

  private static SubsamplingLayer maxPool() {
    return new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build();
  }

  /**
   * Which layers run on oneDNN helpers, e.g. "oneDNN helpers on 6 of 6 conv/pool layers". Fewer means
   * the slow built-in path (see org.nd4j.nativeblas.Nd4jCpu): logged at start so it is never silent.
   */
  public static String engineReport(MultiLayerNetwork network) {
    int convAndPool = 0;
    int helped = 0;
    for (org.deeplearning4j.nn.api.Layer layer : network.getLayers()) {
      if (layer instanceof org.deeplearning4j.nn.layers.convolution.ConvolutionLayer
          || layer instanceof org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer) {
        convAndPool++;
        helped += layer.getHelper() != null ? 1 : 0;
      }
    }
    return "oneDNN helpers on " + helped + " of " + convAndPool + " conv/pool layers";
  }

  /** Human-readable summary stored in the artifact's metadata. */
  public static String describe() {
    return "Conv32(3x3,same)-ReLU-Dropout(0.25)-Conv32-ReLU-MaxPool2 -> Conv64-ReLU-Dropout(0.25)-Conv64-ReLU-MaxPool2"
        + " -> Dense512-ReLU-Dropout(0.5) -> Softmax(10); Nesterov(lr=0.01, momentum=0.9), L2 5e-4, He init";
  }
}
