package cifarserve.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import cifarserve.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarDataTest {
  @TempDir
  Path tmp;

  @Test
  void readsTheRealTestBatch() throws Exception {
    CifarImages test = TestData.dataset().testImages(0);
    assertThat(test.size()).isEqualTo(10_000);
    // The first test image is a cat (label 3), the second a ship (8): the published order.
    assertThat(test.label(0)).isEqualTo(3);
    assertThat(test.label(1)).isEqualTo(8);
    int[] perClass = new int[CifarClasses.COUNT];
    for (int i = 0; i < test.size(); i++) {
      perClass[test.label(i)]++;
    }
    assertThat(perClass).containsOnly(1000);
  }

  @Test
  void readsTrainingImagesAcrossFilesUpToALimit() throws Exception {
    CifarImages train = TestData.dataset().trainImages(12_345);
    assertThat(train.size()).isEqualTo(12_345);
    CifarImages second = CifarBinaryReader.read(TestData.dataset().directory().resolve("data_batch_2.bin"));
    // Image 10,000 of the concatenation is the first of data_batch_2.
    assertThat(train.image(10_000)).isEqualTo(second.image(0));
    assertThat(train.label(10_000)).isEqualTo(second.label(0));
  }

  @Test
  void truncatedFileIsRejectedWithItsName() throws Exception {
    Path truncated = tmp.resolve("test_batch.bin");
    byte[] whole = Files.readAllBytes(TestData.dataset().directory().resolve("test_batch.bin"));
    Files.write(truncated, Arrays.copyOf(whole, whole.length - 100));
    assertThatThrownBy(() -> CifarBinaryReader.read(truncated))
        .isInstanceOf(CifarFormatException.class)
        .hasMessageContaining(truncated.toString())
        .hasMessageContaining("not a whole number of 3073-byte records");
  }

  @Test
  void fileWithTooFewRecordsIsRejected() throws Exception {
    Path shortFile = tmp.resolve("short.bin");
    byte[] whole = Files.readAllBytes(TestData.dataset().directory().resolve("test_batch.bin"));
    Files.write(shortFile, Arrays.copyOf(whole, 3073 * 10));
    assertThatThrownBy(() -> CifarBinaryReader.read(shortFile))
        .isInstanceOf(CifarFormatException.class)
        .hasMessageContaining("holds 10 records, expected 10000");
  }

  @Test
  void labelOutsideZeroToNineIsRejected() {
    byte[] record = new byte[3073];
    record[0] = 10;
    assertThatThrownBy(() -> CifarBinaryReader.parse(record, "upload"))
        .isInstanceOf(CifarFormatException.class)
        .hasMessageContaining("record 0 has label 10");
  }

  @Test
  void checksumMismatchIsDetected() throws Exception {
    Path copy = tmp.resolve("copy");
    Files.createDirectories(copy);
    for (String name : CifarDataset.MD5.keySet()) {
      Files.copy(TestData.dataset().directory().resolve(name), copy.resolve(name));
    }
    CifarDataset.verifyAll(copy);
    byte[] data = Files.readAllBytes(copy.resolve("data_batch_3.bin"));
    data[12345] ^= 1;
    Files.write(copy.resolve("data_batch_3.bin"), data);
    assertThatThrownBy(() -> CifarDataset.verifyAll(copy))
        .isInstanceOf(CifarFormatException.class)
        .hasMessageContaining("checksum mismatch")
        .hasMessageContaining("data_batch_3.bin");
    assertThatThrownBy(() -> CifarDataset.open(copy, tmp.resolve("cache"), s -> { }))
        .hasMessageContaining("checksum mismatch");
  }

  @Test
  void missingFileIsNamed() {
    assertThatThrownBy(() -> CifarDataset.verifyAll(tmp))
        .isInstanceOf(CifarFormatException.class)
        .hasMessageContaining("CIFAR-10 file missing");
  }
}
