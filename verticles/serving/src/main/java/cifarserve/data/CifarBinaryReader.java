package cifarserve.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the CIFAR-10 binary version: records of 1 label byte (0-9) followed by 3072 pixel bytes.
 * Every check fails with a message that names the file and what is wrong with it.
 */
public final class CifarBinaryReader {
  /** Each of the six official files holds exactly this many records. */
  public static final int RECORDS_PER_FILE = 10_000;

  private CifarBinaryReader() {
  }

  public static CifarImages read(Path file) throws IOException {
    return read(file, RECORDS_PER_FILE);
  }

  /** Reads a file that must hold exactly {@code expectedRecords} records. */
  public static CifarImages read(Path file, int expectedRecords) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new CifarFormatException("CIFAR-10 file not found: " + file);
    }
    long size = Files.size(file);
    long expectedSize = (long) expectedRecords * CifarImages.RECORD_BYTES;
    if (size % CifarImages.RECORD_BYTES != 0) {
      throw new CifarFormatException(String.format(
          "%s is %d bytes: not a whole number of %d-byte records (truncated or not a CIFAR-10 binary file)",
          file, size, CifarImages.RECORD_BYTES));
    }
    if (size != expectedSize) {
      throw new CifarFormatException(String.format(
          "%s holds %d records, expected %d (truncated or wrong file)",
          file, size / CifarImages.RECORD_BYTES, expectedRecords));
    }
    return parse(Files.readAllBytes(file), file.toString());
  }

  /** Parses whole records from memory; {@code source} names them in error messages. */
  public static CifarImages parse(byte[] data, String source) throws CifarFormatException {
    if (data.length == 0 || data.length % CifarImages.RECORD_BYTES != 0) {
      throw new CifarFormatException(String.format(
          "%s: %d bytes is not a whole, non-zero number of %d-byte records",
          source, data.length, CifarImages.RECORD_BYTES));
    }
    int count = data.length / CifarImages.RECORD_BYTES;
    byte[] labels = new byte[count];
    byte[] pixels = new byte[count * CifarImages.PIXELS_PER_IMAGE];
    for (int i = 0; i < count; i++) {
      int offset = i * CifarImages.RECORD_BYTES;
      int label = data[offset] & 0xff;
      if (label >= CifarClasses.COUNT) {
        throw new CifarFormatException(String.format(
            "%s: record %d has label %d, outside 0-%d (corrupt file)",
            source, i, label, CifarClasses.COUNT - 1));
      }
      labels[i] = (byte) label;
      System.arraycopy(data, offset + 1, pixels, i * CifarImages.PIXELS_PER_IMAGE, CifarImages.PIXELS_PER_IMAGE);
    }
    return new CifarImages(labels, pixels);
  }
}
