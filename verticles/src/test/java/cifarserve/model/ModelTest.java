package cifarserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import cifarserve.Main;
import cifarserve.TestData;
import cifarserve.TestModels;
import cifarserve.data.CifarImages;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelTest {
  @TempDir
  Path tmp;

  @BeforeAll
  static void engine() {
    Main.enableEngineHelpers();
  }

  @Test
  void networkHasTheStudysShapeAndParameterCount() {
    MultiLayerNetwork network = CifarCnn.newNetwork(1);
    var layers = network.getLayerWiseConfigurations().getConfs().stream().map(c -> c.getLayer()).toList();
    assertThat(layers).hasSize(8);
    assertThat(layers.get(0)).isInstanceOf(ConvolutionLayer.class);
    assertThat(((ConvolutionLayer) layers.get(0)).getNOut()).isEqualTo(32);
    assertThat(((ConvolutionLayer) layers.get(1)).getNOut()).isEqualTo(32);
    assertThat(layers.get(2)).isInstanceOf(SubsamplingLayer.class);
    assertThat(((ConvolutionLayer) layers.get(3)).getNOut()).isEqualTo(64);
    assertThat(((ConvolutionLayer) layers.get(4)).getNOut()).isEqualTo(64);
    assertThat(layers.get(5)).isInstanceOf(SubsamplingLayer.class);
    assertThat(((DenseLayer) layers.get(6)).getNOut()).isEqualTo(CifarCnn.DENSE_WIDTH);
    assertThat(((OutputLayer) layers.get(7)).getNOut()).isEqualTo(10);
    // Dropout sits between conv 1 and 2, and between conv 3 and 4 (applied to a layer's input).
    assertThat(layers.get(1).getIDropout()).isNotNull();
    assertThat(layers.get(4).getIDropout()).isNotNull();
    assertThat(layers.get(3).getIDropout()).isNull();
    assertThat(network.numParams()).isEqualTo(CifarCnn.PARAMETER_COUNT);
  }

  @Test
  void outputsAreProbabilityDistributions() {
    MultiLayerNetwork network = CifarCnn.newNetwork(3);
    LoadedModel model = new LoadedModel(new JsonObject().put("version", "t"), network);
    CifarImages test = TestData.testImages();
    float[][] rows = model.predict(Normalization.fromBytes(test.pixels(), 0, 5), 5);
    assertThat(rows).hasNumberOfRows(5);
    for (float[] row : rows) {
      assertThat(row).hasSize(10);
      double sum = 0;
      for (float p : row) {
        assertThat(p).isBetween(0f, 1f);
        sum += p;
      }
      assertThat(sum).isCloseTo(1.0, within(1e-4));
    }
  }

  @Test
  void smallBatchPathMatchesTheNetworksOwnForwardPass() throws Exception {
    // A trained model, so the dense layers carry real (not freshly initialised) weights.
    LoadedModel trained = TestModels.repository().loadNewest().orElseThrow();
    LoadedModel model = new LoadedModel(trained.metadata(), trained.network(), false, true);
    assertThat(model.hasSmallBatchPath()).isTrue();
    assertThat(model.usesCompiledChains()).isFalse();
    for (int count = 1; count <= SmallBatchForward.MAX_IMAGES + 1; count++) {
      assertMatchesNetworkOutput(model, count);
    }
  }

  @Test
  void compiledChainsMatchTheNetworksOwnForwardPass() throws Exception {
    LoadedModel model = TestModels.repository().loadNewest().orElseThrow();
    assertThat(model.usesCompiledChains()).isTrue();
    // Powers of two run in one chain each; other sizes as a plan of them, some padded (7 = 8, 31 = 32),
    // some not (2 = 1 + 1, 24 = 16 + 8), and more than the largest chain as several (70 = 64 + 4 + 1 + 1).
    for (int count : new int[] {1, 2, 3, 7, 24, 31, 45, 64, 70}) {
      assertMatchesNetworkOutput(model, count);
    }
    // Freed chains are compiled again on the next prediction.
    model.close();
    assertMatchesNetworkOutput(model, 1);
  }

  @Test
  void batchesRunAsTheCheapestPlanOfCompiledChains() {
    // Measured: the chain for 2 costs 3x the chain for 1; 31 images as 16+8+4+2+1 took 20.6 ms, as 32 16.8 ms.
    assertThat(LoadedModel.plan(1)).containsExactly(1);
    assertThat(LoadedModel.plan(2)).containsExactly(1, 1);
    assertThat(LoadedModel.plan(7)).containsExactly(8);
    assertThat(LoadedModel.plan(24)).containsExactly(16, 8);
    assertThat(LoadedModel.plan(31)).containsExactly(32);
    assertThat(LoadedModel.plan(64)).containsExactly(64);
    assertThat(LoadedModel.plan(70)).startsWith(64);
    for (int count = 1; count <= 200; count++) {
      int[] plan = LoadedModel.plan(count);
      int capacity = java.util.Arrays.stream(plan).sum();
      // Every image is covered, no chain is wholly idle, and padding stays below the smallest chain run.
      assertThat(capacity).as("plan of %d", count).isGreaterThanOrEqualTo(count);
      assertThat(capacity - plan[plan.length - 1]).as("plan of %d", count).isLessThan(count);
      for (int size : plan) {
        assertThat(Integer.bitCount(size)).isEqualTo(1);
        assertThat(size).isLessThanOrEqualTo(LoadedModel.MAX_COMPILED_BATCH);
      }
    }
  }

  @Test
  void threadsPredictingAtOnceEachUseTheirOwnChains() throws Exception {
    LoadedModel model = TestModels.repository().loadNewest().orElseThrow();
    CifarImages test = TestData.testImages();
    int images = 40;
    float[][] expected = new float[images][];
    for (int i = 0; i < images; i++) {
      expected[i] = model.predict(Normalization.fromBytes(test.pixels(), i, 1), 1)[0];
    }
    // Two lanes' threads at once, each over all images in a different order: shared buffers would mix
    // one thread's image into the other's answer.
    java.util.concurrent.ExecutorService lanes = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      java.util.List<java.util.concurrent.Future<float[][]>> results = new java.util.ArrayList<>();
      for (int lane = 0; lane < 2; lane++) {
        boolean reversed = lane == 1;
        results.add(lanes.submit(() -> {
          float[][] rows = new float[images][];
          for (int round = 0; round < 5; round++) {
            for (int k = 0; k < images; k++) {
              int i = reversed ? images - 1 - k : k;
              rows[i] = model.predict(Normalization.fromBytes(test.pixels(), i, 1), 1)[0];
            }
          }
          return rows;
        }));
      }
      for (var result : results) {
        assertThat(result.get(60, java.util.concurrent.TimeUnit.SECONDS)).isDeepEqualTo(expected);
      }
    } finally {
      lanes.shutdownNow();
    }
  }

  @Test
  void aRetiredModelStaysUsableUntilItsLastPredictionReleasesIt() throws Exception {
    LoadedModel model = TestModels.repository().loadNewest().orElseThrow();
    float[] image = Normalization.fromBytes(TestData.testImages().pixels(), 0, 1);
    float[] before = model.predict(image.clone(), 1)[0];
    assertThat(model.retain()).isTrue(); // a batch in flight
    model.retire(); // replaced meanwhile
    assertThat(model.predict(image.clone(), 1)[0]).isEqualTo(before);
    model.release(); // the batch ends: now it is freed
    assertThat(model.retain()).as("a freed model cannot be taken again").isFalse();
  }

  @Test
  void compiledChainsAreOnlyBuiltForLayersTheyExpressExactly() {
    long[] image = {CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE};
    try (OneDnnForward chain = OneDnnForward.of(CifarCnn.newNetwork(1), 4, image).orElseThrow()) {
      assertThat(chain.batchSize()).isEqualTo(4);
    }
    // tanh has no fused equivalent here, and batch normalisation is not expressed at all.
    MultiLayerNetwork tanh = smallNetwork(new ConvolutionLayer.Builder(3, 3).nOut(4)
        .convolutionMode(org.deeplearning4j.nn.conf.ConvolutionMode.Same)
        .activation(org.nd4j.linalg.activations.Activation.TANH).build());
    MultiLayerNetwork batchNorm = smallNetwork(new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().build());
    for (MultiLayerNetwork network : new MultiLayerNetwork[] {tanh, batchNorm}) {
      assertThat(OneDnnForward.of(network, 1, image)).isEmpty();
      LoadedModel model = new LoadedModel(new JsonObject().put("version", "t"), network);
      assertThat(model.usesCompiledChains()).isFalse();
      assertMatchesNetworkOutput(model, 2); // DL4J's own path still answers
    }
  }

  private static MultiLayerNetwork smallNetwork(org.deeplearning4j.nn.conf.layers.Layer first) {
    MultiLayerNetwork network = new MultiLayerNetwork(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
        .seed(5)
        .list()
        .layer(first)
        .layer(new OutputLayer.Builder().nOut(10).activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
        .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(CifarImages.SIDE, CifarImages.SIDE,
            CifarImages.CHANNELS))
        .build());
    network.init();
    return network;
  }

  /** model.predict on real test images equals DL4J's network.output to 1e-5 per probability. */
  private static void assertMatchesNetworkOutput(LoadedModel model, int count) {
    CifarImages test = TestData.testImages();
    float[] input = Normalization.fromBytes(test.pixels(), 3 * count % 100, count);
    float[][] fast = model.predict(input.clone(), count);
    INDArray reference = model.network().output(
        Nd4j.create(input, new long[] {count, CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE}, 'c'), false);
    assertThat(fast).hasNumberOfRows(count);
    for (int i = 0; i < count; i++) {
      float[] expected = reference.getRow(i).toFloatVector();
      for (int k = 0; k < expected.length; k++) {
        assertThat(fast[i][k]).as("image %d of %d, class %d", i, count, k).isCloseTo(expected[k], within(1e-5f));
      }
    }
  }

  @Test
  void smallBatchPathIsOnlyTakenForPlainDenseTails() {
    assertThat(SmallBatchForward.of(CifarCnn.newNetwork(1))).isPresent();
    // A network whose last layer is not an output layer after dense layers has no such path.
    MultiLayerNetwork convOnly = new MultiLayerNetwork(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
        .list()
        .layer(new ConvolutionLayer.Builder(3, 3).nIn(3).nOut(4).build())
        .layer(new org.deeplearning4j.nn.conf.layers.CnnLossLayer.Builder().build())
        .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(8, 8, 3))
        .build());
    convOnly.init();
    assertThat(SmallBatchForward.of(convOnly)).isEmpty();
  }

  @Test
  void architectureIdNamesTheNetworkBuiltInCode() {
    String fingerprint = architectureFingerprint(CifarCnn.newNetwork(0).getLayerWiseConfigurations().toJson());
    assertThat(CifarCnn.ARCHITECTURE_ID)
        .as("CifarCnn changed: set ARCHITECTURE_ID to end in %s (older artifacts then load through their JSON)",
            fingerprint)
        .endsWith("-" + fingerprint);
    // The seed and training counters are not part of the architecture.
    assertThat(architectureFingerprint(CifarCnn.newNetwork(99).getLayerWiseConfigurations().toJson()))
        .isEqualTo(fingerprint);
  }

  @Test
  void fastRestoreEqualsModelSerializersRestoreForTheShippedModel() throws Exception {
    ModelRepository shipped = new ModelRepository(Path.of("..", "models"));
    JsonObject metadata = shipped.newest().orElseThrow();
    assertThat(metadata.getString("architectureId")).isEqualTo(CifarCnn.ARCHITECTURE_ID);
    Path zip = shipped.modelFile(ModelVersion.of(metadata));
    String storedConfiguration;
    try (var file = new java.util.zip.ZipFile(zip.toFile())) {
      storedConfiguration = new String(file.getInputStream(file.getEntry(ModelSerializer.CONFIGURATION_JSON))
          .readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    assertThat(architectureFingerprint(storedConfiguration)).isEqualTo(
        architectureFingerprint(CifarCnn.newNetwork(0).getLayerWiseConfigurations().toJson()));

    LoadedModel fast = shipped.load(metadata);
    MultiLayerNetwork reference = ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), false);
    assertThat(fast.network().params().equalsWithEps(reference.params(), 0)).isTrue();
    float[] input = Normalization.fromBytes(TestData.testImages().pixels(), 0, 8);
    assertThat(fast.predict(input.clone(), 8))
        .isDeepEqualTo(new LoadedModel(metadata, reference).predict(input.clone(), 8));
  }

  @Test
  void artifactsWithoutTheArchitectureIdLoadThroughTheirStoredConfiguration() throws Exception {
    MultiLayerNetwork network = CifarCnn.newNetwork(8);
    ModelRepository repository = new ModelRepository(tmp);
    JsonObject metadata = new JsonObject().put("version", "cnn-20260101T000000Z-0002");
    repository.save(network, metadata);
    LoadedModel loaded = repository.load(metadata);
    assertThat(loaded.network().getLayerWiseConfigurations().getConf(0).getSeed()).isEqualTo(8L);
    assertThat(loaded.network().params().equalsWithEps(network.params(), 0)).isTrue();
  }

  /**
   * SHA-256 (12 hex digits) of an initialised network's DL4J configuration JSON (as a model zip stores
   * it), keys sorted, without its seed and training counters.
   */
  static String architectureFingerprint(String configurationJson) {
    Object canonical = canonical(new JsonObject(configurationJson).getMap());
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
          .digest(io.vertx.core.json.Json.encode(canonical).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(digest).substring(0, 12);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Object canonical(Object value) {
    if (value instanceof java.util.Map<?, ?> map) {
      java.util.TreeMap<String, Object> sorted = new java.util.TreeMap<>();
      map.forEach((k, v) -> {
        if (!java.util.Set.of("seed", "iterationCount", "epochCount").contains(k)) {
          sorted.put((String) k, canonical(v));
        }
      });
      return sorted;
    }
    if (value instanceof java.util.List<?> list) {
      return list.stream().map(ModelTest::canonical).toList();
    }
    return value;
  }

  @Test
  void saveThenLoadGivesIdenticalOutputs() throws Exception {
    MultiLayerNetwork network = CifarCnn.newNetwork(5);
    ModelRepository repository = new ModelRepository(tmp);
    JsonObject metadata = new JsonObject().put("version", "cnn-20260101T000000Z-0001").put("accuracy", 0.5);
    repository.save(network, metadata);
    assertThat(repository.list()).extracting(m -> m.getString("version")).containsExactly("cnn-20260101T000000Z-0001");
    assertThat(Files.list(tmp).map(p -> p.getFileName().toString())).noneMatch(name -> name.startsWith(".tmp"));

    LoadedModel loaded = repository.loadNewest().orElseThrow();
    float[] input = Normalization.fromBytes(TestData.testImages().pixels(), 0, 8);
    float[][] before = new LoadedModel(metadata, network).predict(input.clone(), 8);
    float[][] after = loaded.predict(input.clone(), 8);
    assertThat(after).isDeepEqualTo(before);
    assertThat(loaded.version()).isEqualTo("cnn-20260101T000000Z-0001");
  }

  @Test
  void newestArtifactWinsAndIncompleteOnesAreIgnored() throws Exception {
    MultiLayerNetwork network = CifarCnn.newNetwork(5);
    ModelRepository repository = new ModelRepository(tmp);
    repository.save(network, new JsonObject().put("version", "cnn-20260101T000000Z-aaaa"));
    repository.save(network, new JsonObject().put("version", "cnn-20260102T000000Z-bbbb"));
    // Metadata without its zip (an interrupted copy) and a foreign file are not artifacts.
    Files.writeString(tmp.resolve("cnn-20270101T000000Z-cccc.json"), "{\"version\":\"cnn-20270101T000000Z-cccc\"}");
    Files.writeString(tmp.resolve("notes.json"), "not json");
    assertThat(repository.newest().orElseThrow().getString("version")).isEqualTo("cnn-20260102T000000Z-bbbb");
  }
}
