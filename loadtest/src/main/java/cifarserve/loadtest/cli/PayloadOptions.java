package cifarserve.loadtest.cli;

import cifarserve.loadtest.payload.CifarRecords;
import cifarserve.loadtest.payload.PayloadSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/** What the requests carry: one body file, or real CIFAR-10 test records encoded as PNG or raw bytes. */
final class PayloadOptions {
  @Option(names = "--body-file", paramLabel = "FILE", description = "Request body (POST unless -m).")
  Path bodyFile;

  @Option(names = "--cifar-records", paramLabel = "N",
      description = "Send the first N images of CIFAR-10 test_batch.bin in rotation and report accuracy from the answers' \"index\".")
  Integer cifarRecords;

  @Option(names = "--cifar-file", paramLabel = "PATH", description = "The CIFAR-10 batch file (default: $CIFAR_DIR/test_batch.bin).")
  Path cifarFile;

  @Option(names = "--cifar-format", paramLabel = "png|raw", defaultValue = "png",
      description = "Images as PNG (image/png) or raw 3072-byte records (application/octet-stream); default ${DEFAULT-VALUE}.")
  String cifarFormat;

  /** The payloads; {@code postFile}/{@code contentType} are ab's -p and -T. */
  PayloadSource source(Path postFile, String contentType) throws Exception {
    Path file = bodyFile != null ? bodyFile : postFile;
    if (file != null && cifarRecords != null) {
      throw new IllegalArgumentException("choose one of -p/--body-file and --cifar-records");
    }
    if (file != null) {
      return PayloadSource.single(Files.readAllBytes(file), contentType != null ? contentType : "application/octet-stream");
    }
    if (cifarRecords != null) {
      CifarRecords.Format format = switch (cifarFormat.toLowerCase(Locale.ROOT)) {
        case "png" -> CifarRecords.Format.PNG;
        case "raw" -> CifarRecords.Format.RAW;
        default -> throw new IllegalArgumentException("--cifar-format takes png or raw");
      };
      Path batch = CifarRecords.locate(cifarFile, System.getenv("CIFAR_DIR"));
      return CifarRecords.payloads(CifarRecords.read(batch, cifarRecords), format);
    }
    return PayloadSource.none();
  }
}
