package cifarserve.loadtest.experiment;

import cifarserve.loadtest.payload.CifarRecords;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** What `experiment` and `coldstart` share: the function image, the Docker daemon, CIFAR-10's test batch. */
public final class DockerOptions {
  @Option(names = "--function-archive", paramLabel = "TAR", defaultValue = "openfaas/target/cifar-serve-function.tar",
      description = "The function image (openfaas/build-image.sh). Default: ${DEFAULT-VALUE}")
  Path functionArchive;
  @Option(names = "--docker-host", paramLabel = "URL", description = "Use this Docker daemon (default: start a private dockerd).")
  String dockerHost;
  @Option(names = "--cifar-dir", paramLabel = "DIR", description = "CIFAR-10 binary batches (default: $CIFAR_DIR).")
  Path cifarDir;

  /** test_batch.bin under --cifar-dir or $CIFAR_DIR. */
  Path testBatch() throws IOException {
    Path cifar = cifarDir != null ? cifarDir : Path.of(System.getenv().getOrDefault("CIFAR_DIR", ""));
    return CifarRecords.locate(null, cifar.toString());
  }

  /** Test record 0 (a cat) as PNG: the first answer every start waits for. */
  byte[] firstTestImagePng() throws IOException {
    return CifarRecords.toPng(CifarRecords.read(testBatch(), 1).get(0).pixels());
  }
}
