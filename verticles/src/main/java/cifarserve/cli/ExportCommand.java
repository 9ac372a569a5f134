package cifarserve.cli;

import cifarserve.config.ServiceConfig;
import cifarserve.data.CifarDataset;
import cifarserve.data.Datasets;
import cifarserve.model.LoadedModel;
import cifarserve.model.ModelRepository;
import cifarserve.model.ModelVersion;
import cifarserve.training.OnnxArtifacts;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Write the verified ONNX twin (<version>.onnx) of existing model artifacts and record its SHA-256.")
public final class ExportCommand implements Callable<Integer> {
  @Parameters(arity = "0..*", description = "versions to export (default: every artifact without an .onnx)")
  List<String> versions;

  @Option(names = "--model-dir", description = "the artifacts' folder (default: config modelDir)")
  Path modelDir;

  @Option(names = "--cifar-dir", description = "folder with the CIFAR-10 .bin files (default: CIFAR_DIR or fetched)")
  Path cifarDir;

  @Option(names = "--conf", description = "JSON config file (default: built-in defaults + environment)")
  Path conf;

  @Override
  public Integer call() {
    try {
      JsonObject config = ServiceConfig.load(conf);
      ModelRepository repository = new ModelRepository(modelDir != null ? modelDir : Path.of(config.getString("modelDir")));
      CifarDataset dataset = Datasets.open(config, cifarDir, System.out::println);
      List<ModelVersion> requested = versions == null ? List.of() : versions.stream().map(ModelVersion::parse).toList();
      int exported = 0;
      for (JsonObject metadata : repository.list()) {
        ModelVersion version = ModelVersion.of(metadata);
        boolean wanted = requested.isEmpty() ? !repository.onnxFile(version).toFile().isFile() : requested.contains(version);
        if (!wanted) {
          continue;
        }
        LoadedModel model = repository.load(metadata);
        JsonObject updated = metadata.copy();
        byte[] onnx = OnnxArtifacts.exportVerified(model.network(), updated, dataset, dataset.testImages(OnnxArtifacts.VERIFICATION_IMAGES));
        repository.addOnnx(onnx, updated);
        System.out.printf("%s: %s (%d bytes, max |ONNX - DL4J| %.2e on %d test images)%n", version,
            repository.onnxFile(version), onnx.length,
            updated.getJsonObject("onnxVerification").getDouble("maxAbsDifference"),
            updated.getJsonObject("onnxVerification").getInteger("testImages"));
        exported++;
      }
      if (versions != null && exported < versions.size()) {
        System.err.println("error: only " + exported + " of " + versions.size() + " versions found in " + repository.directory());
        return 1;
      }
      System.out.println("exported " + exported + " artifact(s)");
      return 0;
    } catch (Exception e) {
      System.err.println("error: export failed: " + Cli.describe(e));
      return 1;
    }
  }
}
