package cifarserve.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import cifarserve.loadtest.payload.CifarRecords;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Tag;

/** CIFAR-10 payloads: reading records, PNG encoding, rotation and accuracy under load. */
@Tag("unit")
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PayloadTest {
  @TempDir
  Path tmp;

  /** A batch file in the real layout; record i has label i % 10 and first pixel byte firstPixel[i]. */
  private Path batch(int[] firstPixel) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < firstPixel.length; i++) {
      out.write(i % 10);
      byte[] pixels = new byte[CifarRecords.PIXELS];
      for (int p = 0; p < pixels.length; p++) {
        pixels[p] = (byte) (p * 7 + i);
      }
      pixels[0] = (byte) firstPixel[i];
      out.write(pixels);
    }
    Path file = tmp.resolve("test_batch.bin");
    Files.write(file, out.toByteArray());
    return file;
  }

  @Test
  void pngEncodingKeepsEveryPixel() throws Exception {
    Path file = batch(new int[] {0, 1, 2});
    List<CifarRecords.Record> records = CifarRecords.read(file, 3);
    assertThat(records).extracting(CifarRecords.Record::label).containsExactly(0, 1, 2);

    byte[] pixels = records.get(2).pixels();
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(CifarRecords.toPng(pixels)));
    assertThat(image.getWidth()).isEqualTo(32);
    for (int i = 0; i < 1024; i += 37) {
      int rgb = image.getRGB(i % 32, i / 32);
      assertThat((rgb >> 16) & 0xff).isEqualTo(pixels[i] & 0xff);
      assertThat((rgb >> 8) & 0xff).isEqualTo(pixels[1024 + i] & 0xff);
      assertThat(rgb & 0xff).isEqualTo(pixels[2048 + i] & 0xff);
    }
  }

  @Test
  void tooFewRecordsAndBadLabelsAreRejected() throws Exception {
    Path file = batch(new int[] {0, 1});
    assertThatThrownBy(() -> CifarRecords.read(file, 3)).hasMessageContaining("holds only 2");
    byte[] badLabel = new byte[CifarRecords.RECORD];
    badLabel[0] = 42;
    Files.write(file, badLabel);
    assertThatThrownBy(() -> CifarRecords.read(file, 1)).hasMessageContaining("label 42");
  }

  @Test
  void accuracyUnderLoadComparesTheAnswersIndexWithTheLabel() throws Exception {
    // The test server answers index = first body byte. Records 0..3 carry labels 0..3; record 3's
    // first byte is wrong, so 3 of every 4 answers are right.
    Path file = batch(new int[] {0, 1, 2, 9});
    try (TestTargetServer server = new TestTargetServer()) {
      CliRun run = CliRun.run(tmp, "-n", "40", "-c", "2", "-k", "--cifar-records", "4", "--cifar-file",
          file.toString(), "--cifar-format", "raw", server.url("/classify"));

      assertThat(run.exitCode()).as(run.stderr()).isZero();
      assertThat(run.json().getJsonObject("settings").getString("method")).isEqualTo("POST");
      assertThat(run.json().getJsonObject("bytes").getLong("bodySent")).isEqualTo(40L * 3072);
      assertThat(run.json().getJsonObject("accuracy").getLong("evaluated")).isEqualTo(40);
      assertThat(run.json().getJsonObject("accuracy").getDouble("percent")).isEqualTo(75.0);
      assertThat(run.stdout()).contains("Accuracy under load:    75.00 %");
    }
  }
}
