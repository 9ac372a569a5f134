package cifarserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import cifarserve.Main;
import cifarserve.TestData;
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
    // Trained with a schedule: only the updater's rate differs from the constant-rate layout the id names.
    assertThat(architectureFingerprint(constantRate(storedConfiguration))).isEqualTo(
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
  /** The configuration as if trained at the study's constant rate: each updater's schedule replaced by 0.01. */
  static String constantRate(String configurationJson) {
    return io.vertx.core.json.Json.encode(withoutSchedule(new JsonObject(configurationJson).getMap()));
  }

  private static Object withoutSchedule(Object value) {
    if (value instanceof java.util.Map<?, ?> map) {
      java.util.Map<String, Object> copy = new java.util.LinkedHashMap<>();
      map.forEach((k, v) -> copy.put((String) k, withoutSchedule(v)));
      if (copy.remove("learningRateSchedule") != null) {
        copy.put("learningRate", CifarCnn.LEARNING_RATE);
      }
      return copy;
    }
    if (value instanceof java.util.List<?> list) {
      return list.stream().map(ModelTest::withoutSchedule).toList();
    }
    return value;
  }

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
