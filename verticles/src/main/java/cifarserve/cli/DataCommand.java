package cifarserve.cli;

import cifarserve.config.ServiceConfig;
import cifarserve.data.CifarClasses;
import cifarserve.data.CifarDataset;
import cifarserve.data.CifarImages;
import cifarserve.data.Datasets;
import cifarserve.http.ImageDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "data", mixinStandardHelpOptions = true,
    description = "Fetch (if needed) and verify CIFAR-10; optionally export test images as PNG or raw records.")
public final class DataCommand implements Callable<Integer> {
  @Option(names = "--cifar-dir", description = "folder with the CIFAR-10 .bin files (default: CIFAR_DIR or the cache)")
  Path cifarDir;

  @Option(names = "--export", split = ",", description = "test image indexes to export, e.g. 0,1,2")
  int[] export = {};

  @Option(names = "--out", defaultValue = ".", description = "folder for exported images (default: .)")
  Path out;

  @Option(names = "--raw", description = "export 3072-byte raw pixel records instead of PNG")
  boolean raw;

  @Override
  public Integer call() {
    try {
      CifarDataset dataset = Datasets.open(ServiceConfig.load(null), cifarDir, System.out::println);
      System.out.println("CIFAR-10 verified (MD5 of all 6 files): " + dataset.directory());
      if (export.length > 0) {
        CifarImages test = dataset.testImages(0);
        Files.createDirectories(out);
        for (int index : export) {
          if (index < 0 || index >= test.size()) {
            throw new IllegalArgumentException("test image index must be 0-" + (test.size() - 1) + ", got " + index);
          }
          String name = String.format("test-%05d-%s.%s", index, CifarClasses.name(test.label(index)), raw ? "bin" : "png");
          Path file = out.resolve(name);
          if (raw) {
            Files.write(file, test.image(index));
          } else {
            ImageIO.write(ImageDecoder.fromChw(test.image(index)), "png", file.toFile());
          }
          System.out.println(file);
        }
      }
      return 0;
    } catch (Exception e) {
      System.err.println("error: " + Cli.describe(e));
      return 1;
    }
  }
}
