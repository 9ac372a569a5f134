package cifarserve.training;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.data.CifarClasses;
import cifarserve.data.CifarImages;
import cifarserve.model.CifarCnn;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class FastBackpropTest {

  @BeforeAll
  static void oneDnnHelpers() {
    cifarserve.Main.enableEngineHelpers(); // the convolutions and pooling run where they run in training
  }

  @Test
  void trainsBitForBitLikeTheStockPath() {
    List<DataSet> batches = batches(6, 16, 7);
    MultiLayerNetwork stock = CifarCnn.newNetwork(42);
    MultiLayerNetwork fast = CifarCnn.newNetwork(42);

    double[] stockScores = train(stock, batches, false);
    double[] fastScores = train(fast, batches, true);

    assertThat(fastScores).containsExactly(stockScores);
    // isEqualTo on float[] is Arrays.equals: bit for bit, in one pass over the 2.2 M values.
    assertThat(fast.params().toFloatVector()).isEqualTo(stock.params().toFloatVector());
    assertThat(fast.getUpdater().getStateViewArray().toFloatVector())
        .isEqualTo(stock.getUpdater().getStateViewArray().toFloatVector());
    assertThat(stockScores[batches.size() - 1]).isNotEqualTo(stockScores[0]); // it did train
  }

  private static double[] train(MultiLayerNetwork network, List<DataSet> batches, boolean fastPath) {
    Nd4j.getRandom().setSeed(1); // the dropout masks come from ND4J's global stream: the same for both runs
    double[] scores = new double[batches.size()];
    for (int i = 0; i < batches.size(); i++) {
      if (fastPath) {
        try (var on = FastBackprop.during(network)) {
          network.fit(batches.get(i));
        }
      } else {
        network.fit(batches.get(i));
      }
      scores[i] = network.score();
    }
    return scores;
  }

  @Test
  void isOnOnlyInsideItsScope() {
    DataSet batch = batches(1, 8, 3).get(0);
    MultiLayerNetwork stock = CifarCnn.newNetwork(42);
    stock.fit(batch);
    MultiLayerNetwork network = CifarCnn.newNetwork(42);

    try (var on = FastBackprop.during(network)) {
      assertThat(network.getLayerWiseConfigurations().getCacheMode()).isEqualTo(CacheMode.DEVICE);
      assertThat(reluClasses(network)).containsOnly(FastBackprop.Relu.class).hasSize(5); // 4 conv + dense
      // conv 2 and 4 (the study's two dropouts) and the output layer (after the dense layer)
      assertThat(dropoutClasses(network)).containsOnly(FastBackprop.MaskedDropout.class).hasSize(3);
      network.fit(batch);
    }

    // What a model zip stores (and the architecture id hashes) is the stock configuration again
    // (the JSON counts iterations: both networks did one).
    assertThat(network.getLayerWiseConfigurations().toJson()).isEqualTo(stock.getLayerWiseConfigurations().toJson());
    assertThat(reluClasses(network)).containsOnly(ActivationReLU.class).hasSize(5);
    assertThat(dropoutClasses(network)).containsOnly(Dropout.class).hasSize(3);
  }

  private static List<Class<?>> dropoutClasses(MultiLayerNetwork network) {
    List<Class<?>> classes = new ArrayList<>();
    for (var conf : network.getLayerWiseConfigurations().getConfs()) {
      if (conf.getLayer().getIDropout() != null) {
        classes.add(conf.getLayer().getIDropout().getClass());
      }
    }
    return classes;
  }

  @Test
  void reluBackwardIsTheStockGradient() {
    INDArray z = Nd4j.createFromArray(new float[] {-2f, -0f, 0f, 1e-30f, 3f, -1e-30f, 5f, -4f}).reshape(2, 4);
    INDArray epsilon = Nd4j.createFromArray(new float[] {1f, 2f, 3f, 4f, -5f, 6f, 7f, -8f}).reshape(2, 4);

    float[] stock = new ActivationReLU().backprop(z.dup(), epsilon.dup()).getFirst().ravel().toFloatVector();
    float[] fast = new FastBackprop.Relu().backprop(z.dup(), epsilon.dup()).getFirst().ravel().toFloatVector();

    assertThat(stock).containsExactly(0f, 0f, 0f, 4f, -5f, 0f, 7f, 0f);
    // Equal as numbers: where z <= 0 and epsilon < 0 the fast path's zero is -0 (0 x -8), which adds
    // nothing to any sum downstream (trainsBitForBitLikeTheStockPath).
    assertThat(fast).usingElementComparator((a, b) -> a.floatValue() == b.floatValue() ? 0 : Float.compare(a, b)).containsExactly(stock);
  }

  private static List<Class<?>> reluClasses(MultiLayerNetwork network) {
    List<Class<?>> classes = new ArrayList<>();
    for (var conf : network.getLayerWiseConfigurations().getConfs()) {
      if (conf.getLayer() instanceof BaseLayer layer && layer.getActivationFn() instanceof ActivationReLU relu) {
        classes.add(relu.getClass());
      }
    }
    return classes;
  }

  /** Random images scaled like training's (standardised pixels) with random labels: enough to move the weights. */
  private static List<DataSet> batches(int count, int size, long seed) {
    Random random = new Random(seed);
    List<DataSet> batches = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      float[] features = new float[size * CifarImages.CHANNELS * CifarImages.SIDE * CifarImages.SIDE];
      for (int i = 0; i < features.length; i++) {
        features[i] = (float) random.nextGaussian();
      }
      float[] labels = new float[size * CifarClasses.COUNT];
      for (int i = 0; i < size; i++) {
        labels[i * CifarClasses.COUNT + random.nextInt(CifarClasses.COUNT)] = 1f;
      }
      batches.add(new DataSet(
          Nd4j.create(features, new long[] {size, CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE}, 'c'),
          Nd4j.create(labels, new long[] {size, CifarClasses.COUNT}, 'c')));
    }
    return batches;
  }
}
