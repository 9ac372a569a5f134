package cifarserve.loadtest.payload;

import io.vertx.core.buffer.Buffer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Reads the first N records of a CIFAR-10 binary batch (1 label byte + 3072 pixel bytes: R, G and B
 * planes of 32x32) and turns them into request bodies, PNG or the raw 3072 pixel bytes.
 */
public final class CifarRecords {
  public static final int SIDE = 32;
  public static final int PIXELS = SIDE * SIDE * 3;
  public static final int RECORD = PIXELS + 1;
  public static final int MAX_RECORDS = 10_000;

  /** How images travel in the request body. */
  public enum Format {
    PNG("image/png"),
    RAW("application/octet-stream");

    public final String contentType;

    Format(String contentType) {
      this.contentType = contentType;
    }
  }

  /** One record: its label (0..9) and its 3072 pixel bytes. */
  public record Record(int label, byte[] pixels) {
  }

  private CifarRecords() {
  }

  /** The file given, else $CIFAR_DIR/test_batch.bin (also looked for under cifar-10-batches-bin/). */
  public static Path locate(Path explicit, String cifarDirEnv) {
    if (explicit != null) {
      return explicit;
    }
    if (cifarDirEnv == null || cifarDirEnv.isBlank()) {
      throw new IllegalArgumentException("--cifar-records needs --cifar-file PATH or the CIFAR_DIR environment variable");
    }
    Path dir = Path.of(cifarDirEnv);
    for (Path candidate : List.of(dir.resolve("test_batch.bin"), dir.resolve("cifar-10-batches-bin/test_batch.bin"))) {
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalArgumentException("no test_batch.bin in CIFAR_DIR=" + cifarDirEnv);
  }

  public static List<Record> read(Path file, int count) throws IOException {
    if (count < 1 || count > MAX_RECORDS) {
      throw new IllegalArgumentException("--cifar-records must be 1.." + MAX_RECORDS + ", got " + count);
    }
    List<Record> records = new ArrayList<>(count);
    try (InputStream in = Files.newInputStream(file); DataInputStream data = new DataInputStream(in)) {
      for (int i = 0; i < count; i++) {
        int label;
        byte[] pixels = new byte[PIXELS];
        try {
          label = data.readUnsignedByte();
          data.readFully(pixels);
        } catch (EOFException e) {
          throw new IOException(file + " holds only " + i + " complete records, " + count + " asked for");
        }
        if (label > 9) {
          throw new IOException(file + ": record " + i + " has label " + label + "; not a CIFAR-10 binary batch?");
        }
        records.add(new Record(label, pixels));
      }
    }
    return records;
  }

  public static byte[] toPng(byte[] pixels) {
    BufferedImage image = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
    int plane = SIDE * SIDE;
    for (int i = 0; i < plane; i++) {
      int r = pixels[i] & 0xff;
      int g = pixels[plane + i] & 0xff;
      int b = pixels[2 * plane + i] & 0xff;
      image.setRGB(i % SIDE, i / SIDE, (r << 16) | (g << 8) | b);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public static PayloadSource payloads(List<Record> records, Format format) {
    List<Payload> payloads = new ArrayList<>(records.size());
    for (Record r : records) {
      byte[] body = format == Format.PNG ? toPng(r.pixels()) : r.pixels();
      payloads.add(new Payload(Buffer.buffer(body), format.contentType, r.label()));
    }
    return PayloadSource.rotating(payloads);
  }
}
