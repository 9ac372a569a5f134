package cifarserve.http;

import static cifarserve.http.RawHttp.request;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/**
 * Bad requests the service must refuse with a 4xx JSON error, built in code from one real CIFAR-10
 * image (so a case is readable next to its bytes) and kept as files under test resources
 * ({@link #RESOURCES}: one gzipped raw request per case, listed with its expected answer in
 * {@code index.tsv}), which is what {@link HostileInputTest} replays; a case can be added as a file alone.
 * Limits assumed: {@link HostileInputTest}'s server config.
 */
final class HostileCorpus {
  /** The corpus on the class path: index.tsv (file, status, error fragment or empty, case name) and the files. */
  static final String RESOURCES = "/cifarserve/http/hostile/";
  /** Where {@link #write} puts the files, relative to the verticles module. */
  static final String SOURCE_DIR = "src/test/resources" + RESOURCES;
  static final String CLASSIFY = "/v1/classify";
  static final String INFER = "/v2/models/cifar10-cnn/infer";
  static final String JSON = "application/json";
  static final String OCTETS = "application/octet-stream";

  /** One request and the answer it must get: {@code status}, and a fragment of the JSON error (null: any). */
  record Case(String name, byte[] request, int status, String fragment) {
    @Override
    public String toString() {
      return name;
    }
  }

  private final byte[] pixels;
  private final byte[] png;
  private final byte[] jpeg;
  private final long bodyLimit;
  private final int queueCapacity;
  private final List<Case> cases = new ArrayList<>();

  HostileCorpus(byte[] cifarPixels, long bodyLimit, int queueCapacity) {
    this.pixels = cifarPixels;
    this.png = encode(ImageDecoder.fromChw(cifarPixels), "png");
    this.jpeg = encode(ImageDecoder.fromChw(cifarPixels), "jpg");
    this.bodyLimit = bodyLimit;
    this.queueCapacity = queueCapacity;
  }

  List<Case> all() {
    images();
    mediaTypes();
    rawRecords();
    openInference();
    pathsAndMethods();
    return List.copyOf(cases);
  }

  /** The corpus as kept in files (index order). */
  static List<Case> fromResources() throws IOException {
    List<Case> kept = new ArrayList<>();
    try (InputStream index = HostileCorpus.class.getResourceAsStream(RESOURCES + "index.tsv")) {
      if (index == null) {
        throw new IOException("no " + RESOURCES + "index.tsv on the test class path");
      }
      for (String line : new String(index.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] f = line.split("\t", 4);
        try (InputStream in = HostileCorpus.class.getResourceAsStream(RESOURCES + f[0])) {
          if (in == null) {
            throw new IOException("index.tsv names " + f[0] + ", which is missing");
          }
          kept.add(new Case(f[3], new GZIPInputStream(in).readAllBytes(), Integer.parseInt(f[1]),
              f[2].isEmpty() ? null : f[2]));
        }
      }
    }
    return kept;
  }

  /** Writes {@code cases} as the kept corpus into {@code dir} (index.tsv plus one .http.gz per case). */
  static void write(List<Case> cases, Path dir) throws IOException {
    Files.createDirectories(dir);
    StringBuilder index = new StringBuilder("# file\tstatus\terror fragment (empty: any)\tcase; written by"
        + " HostileInputTest with -Dhostile.corpus.write=true from HostileCorpus\n");
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      String file = String.format(Locale.ROOT, "%03d-%s.http.gz", i + 1,
          c.name().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", ""));
      try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(dir.resolve(file)))) {
        out.write(c.request());
      }
      index.append(file).append('\t').append(c.status()).append('\t').append(c.fragment() == null ? "" : c.fragment())
          .append('\t').append(c.name()).append('\n');
    }
    Files.writeString(dir.resolve("index.tsv"), index);
  }

  private void add(String name, byte[] request, int status, String fragment) {
    cases.add(new Case(name, request, status, fragment));
  }

  private void classify(String name, String contentType, byte[] body, int status, String fragment) {
    add(name, request("POST", CLASSIFY, contentType, body), status, fragment);
  }

  private void infer(String name, String json, int status, String fragment) {
    add(name, request("POST", INFER, JSON, json.getBytes(StandardCharsets.UTF_8)), status, fragment);
  }

  private void infer(String name, JsonObject request, int status, String fragment) {
    infer(name, request.encode(), status, fragment);
  }

  // ---- PNG and JPEG: truncated, corrupt, bombs, other formats --------------------------------------

  private void images() {
    String png = InferenceRequests.PNG;
    String jpg = InferenceRequests.JPEG;
    classify("png truncated to half", png, Arrays.copyOf(this.png, this.png.length / 2), 400, "decod");
    classify("png signature and IHDR only", png, Arrays.copyOf(this.png, 33), 400, "decod");
    classify("png signature only", png, Arrays.copyOf(this.png, 8), 400, "decod");
    classify("png IHDR + IEND, no IDAT", png, pngFile(32, 32, 8, 2, null), 400, "decod");
    classify("png IDAT not zlib", png, pngFile(32, 32, 8, 2, randomBytes(500, 1)), 400, "decod");
    classify("png IDAT zlib stream cut short", png, pngFile(32, 32, 8, 2,
        Arrays.copyOf(deflate(new byte[32 * (32 * 3 + 1)]), 20)), 400, "decod");
    classify("png width 0", png, pngFile(0, 32, 8, 2, deflate(new byte[32])), 400, "decod");
    classify("png bit depth 7", png, pngFile(32, 32, 7, 2, deflate(new byte[32 * 97])), 400, "decod");
    classify("png colour type 5", png, pngFile(32, 32, 8, 5, deflate(new byte[32 * 97])), 400, "decod");
    // Decompression bombs: a few hundred bytes that declare 10^10 pixels, or more than the limit.
    classify("png bomb 100000x100000 declared", png, pngFile(100_000, 100_000, 8, 0, deflate(new byte[1000])), 400,
        "above the limit");
    classify("png bomb 16-bit 3000x3000 zeros", png, pngFile(3000, 3000, 16, 0, deflate(new byte[3000 * 6001])), 400,
        "above the limit");
    classify("png 2^31-1 wide", png, pngFile(Integer.MAX_VALUE, 1, 8, 0, deflate(new byte[10])), 400, "above the limit");
    classify("jpeg SOI only", jpg, new byte[] {(byte) 0xFF, (byte) 0xD8}, 400, "decod");
    classify("jpeg random after SOI", jpg, withMagic(randomBytes(2000, 2), 0xFF, 0xD8), 400, "decod");
    classify("jpeg headers without scan data", jpg, Arrays.copyOf(jpeg, marker(jpeg, 0xDA) + 2), 400, "decod");
    classify("jpeg bomb 60000x60000 declared", jpg, jpegWithSize(60_000, 60_000), 400, "above the limit");
    classify("jpeg width 0", jpg, jpegWithSize(32, 0), 400, "decod");
    classify("gif is not accepted", jpg, encode(ImageDecoder.fromChw(pixels), "gif"), 400, "png or jpeg");
    classify("bmp is not accepted", png, encode(ImageDecoder.fromChw(pixels), "bmp"), 400, "png or jpeg");
    classify("tiff is not accepted", png, encode(ImageDecoder.fromChw(pixels), "tiff"), 400, "png or jpeg");
    classify("png sent as jpeg still a png", jpg, Arrays.copyOf(this.png, 40), 400, "decod");
  }

  // ---- Content-Type -------------------------------------------------------------------------------

  private void mediaTypes() {
    classify("text/plain", "text/plain", "a cat".getBytes(StandardCharsets.UTF_8), 415, "unsupported Content-Type");
    classify("application/json to classify", JSON, "{}".getBytes(StandardCharsets.UTF_8), 415, "unsupported Content-Type");
    classify("image/gif type", "image/gif", png, 415, "unsupported Content-Type");
    classify("content type of semicolons", ";;;", png, 415, "unsupported Content-Type");
    classify("form urlencoded", "application/x-www-form-urlencoded", "a=1&b=2".getBytes(StandardCharsets.UTF_8), 415,
        "unsupported Content-Type");
    classify("no content type, text", null, "not an image at all".getBytes(StandardCharsets.UTF_8), 415,
        "unsupported Content-Type");
    classify("no content type, empty", null, new byte[0], 400, "empty body");
    classify("png type, empty", InferenceRequests.PNG, new byte[0], 400, "empty body");
    classify("png type with a raw record", InferenceRequests.PNG + "; charset=utf-8", pixels, 400, "decod");
  }

  // ---- raw CIFAR records and body sizes ---------------------------------------------------------

  private void rawRecords() {
    for (int length : new int[] {1, 3071, 3074, 6144}) {
      classify("raw record of " + length + " bytes", OCTETS, new byte[length], 400, "3072");
    }
    classify("raw record, empty", OCTETS, new byte[0], 400, "empty body");
    classify("body over the limit", OCTETS, new byte[(int) bodyLimit + 1], 413, "larger than the limit");
    add("declared length over the limit, no body", RawHttp.request("POST", CLASSIFY, OCTETS, null,
        "Content-Length: " + (bodyLimit * 1000)), 413, "larger than the limit");
    add("chunked body over the limit", chunked(CLASSIFY, OCTETS, new byte[(int) bodyLimit + 4096]), 413,
        "larger than the limit");
    add("OIP body over the limit", request("POST", INFER, JSON, new byte[(int) bodyLimit + 1]), 413, "larger than the limit");
  }

  // ---- Open Inference Protocol tensors ------------------------------------------------------------

  private void openInference() {
    infer("not JSON", "{not json", 400, "JSON");
    infer("JSON array", "[]", 400, "JSON");
    infer("JSON string", "\"input\"", 400, "JSON");
    infer("empty body", "", 400, "empty body");
    infer("no inputs", "{}", 400, "exactly one");
    infer("inputs is an object", "{\"inputs\": {}}", 400, "exactly one");
    infer("two inputs", new JsonObject().put("inputs", new JsonArray().add(tensor("FP32", shape(1), zeros(1)))
        .add(tensor("FP32", shape(1), zeros(1)))), 400, "exactly one");
    infer("input is a number", "{\"inputs\": [7]}", 400, "tensor object");
    infer("wrong input name", oip(tensor("UINT8", shape(1), zeros(1)).put("name", "image")), 400, "unknown input");
    infer("no input name", oip(withoutKey(tensor("UINT8", shape(1), zeros(1)), "name")), 400, "unknown input");
    infer("shape of 3 dims", oip(tensor("UINT8", new JsonArray().add(3).add(32).add(32), zeros(1))), 400, "shape");
    infer("shape NHWC", oip(tensor("UINT8", new JsonArray().add(1).add(32).add(32).add(3), zeros(1))), 400, "shape");
    infer("shape 1.5", oip(tensor("UINT8", new JsonArray().add(1.5).add(3).add(32).add(32), zeros(1))), 400, "integers");
    infer("shape of strings", oip(tensor("UINT8", new JsonArray().add("1").add("3").add("32").add("32"), zeros(1))), 400,
        "integers");
    infer("batch 0", oip(tensor("UINT8", shape(0), zeros(1))), 400, "batch size");
    infer("batch -1", oip(tensor("UINT8", shape(-1), zeros(1))), 400, "batch size");
    infer("batch 10^12", oip(tensor("UINT8", shape(1_000_000_000_000L), zeros(1))), 400, "batch size");
    infer("batch larger than the queue", oip(tensor("UINT8", shape(queueCapacity + 1), new JsonArray())), 413,
        "split it");
    infer("datatype INT64", oip(tensor("INT64", shape(1), zeros(1))), 400, "datatype");
    infer("datatype lower case", oip(tensor("fp32", shape(1), zeros(1))), 400, "datatype");
    infer("datatype missing", oip(withoutKey(tensor("FP32", shape(1), zeros(1)), "datatype")), 400, "datatype");
    infer("data missing", oip(withoutKey(tensor("FP32", shape(1), zeros(1)), "data")), 400, "'data'");
    infer("data a string", oip(tensor("FP32", shape(1), zeros(1)).put("data", "AAAA")), 400, "'data'");
    infer("data too short", oip(tensor("FP32", shape(1), new JsonArray(zeros(1).getList().subList(0, 3000)))), 400,
        "needs 3072");
    infer("data for 2 images, shape 1", oip(tensor("FP32", shape(1), zeros(2))), 400, "needs 3072");
    infer("data for 1 image, shape 2", oip(tensor("FP32", shape(2), zeros(1))), 400, "needs 6144");
    infer("FP32 above 1", oip(tensor("FP32", shape(1), zeros(1).set(9, 1.5))), 400, "0-1");
    infer("FP32 negative", oip(tensor("FP32", shape(1), zeros(1).set(9, -0.1))), 400, "0-1");
    infer("UINT8 300", oip(tensor("UINT8", shape(1), zeros(1).set(9, 300))), 400, "0-255");
    infer("UINT8 -1", oip(tensor("UINT8", shape(1), zeros(1).set(9, -1))), 400, "0-255");
    infer("UINT8 fraction", oip(tensor("UINT8", shape(1), zeros(1).set(9, 2.5))), 400, "0-255");
    infer("null in data", oip(tensor("UINT8", shape(1), zeros(1).set(9, null))), 400, "only numbers");
    infer("string in data", oip(tensor("UINT8", shape(1), zeros(1).set(9, "7"))), 400, "only numbers");
    infer("boolean in data", oip(tensor("UINT8", shape(1), zeros(1).set(9, true))), 400, "only numbers");
    // JSON has no NaN or Infinity: as bare tokens they are not JSON; as overflowing numbers they parse to Infinity.
    infer("NaN token", oipText("FP32", "NaN"), 400, "JSON");
    infer("Infinity token", oipText("FP32", "Infinity"), 400, "JSON");
    infer("1e999 (Infinity)", oipText("FP32", "1e999"), 400, "0-1");
    infer("-1e999 (-Infinity)", oipText("UINT8", "-1e999"), 400, "0-255");
    infer("a 2000-digit number", oipText("FP32", "1" + "0".repeat(2000)), 400, null);
    infer("nested 5000 deep", "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [1,3,32,32], \"data\": "
        + "[".repeat(5000) + "]".repeat(5000) + "}]}", 400, null);
    infer("unknown output", oip(tensor("UINT8", shape(1), zeros(1)))
        .put("outputs", new JsonArray().add(new JsonObject().put("name", "logits"))), 400, "unknown output");
    infer("outputs empty", oip(tensor("UINT8", shape(1), zeros(1))).put("outputs", new JsonArray()), 400, "'outputs'");
    infer("outputs a string", oip(tensor("UINT8", shape(1), zeros(1))).put("outputs", "label"), 400, "'outputs'");
    infer("outputs of strings", oip(tensor("UINT8", shape(1), zeros(1))).put("outputs", new JsonArray().add("label")), 400,
        "unknown output");
  }

  // ---- paths, methods, queries ---------------------------------------------------------------------

  private void pathsAndMethods() {
    add("unknown path", request("GET", "/nope", null, null), 404, "no such endpoint");
    add("unknown model", request("POST", "/v2/models/resnet/infer", JSON, "{}".getBytes(StandardCharsets.UTF_8)), 404,
        "no such endpoint");
    add("path traversal", request("GET", "/../../etc/passwd", null, null), 404, "no such endpoint");
    add("encoded traversal", request("GET", "/v2/%2e%2e/%2e%2e/etc/passwd", null, null), 404, "no such endpoint");
    add("GET classify", request("GET", CLASSIFY, null, null), 405, "method not allowed");
    add("PUT classify", request("PUT", CLASSIFY, OCTETS, pixels), 405, "method not allowed");
    add("DELETE infer", request("DELETE", INFER, null, null), 405, "method not allowed");
    add("POST metrics", request("POST", "/metrics", OCTETS, new byte[1]), 405, "method not allowed");
    add("bad percent-encoding in the query", request("GET", "/nope?x=%zz&%%", null, null), 404, "no such endpoint");
    add("query on classify, empty body", request("POST", CLASSIFY + "?label=cat&x=%zz", OCTETS, new byte[0]), 400,
        "empty body");
    add("train without a token", request("POST", "/train", JSON, "{\"epochs\":1}".getBytes(StandardCharsets.UTF_8)), 401,
        "token");
    add("train with a wrong token", request("POST", "/train", JSON, "{}".getBytes(StandardCharsets.UTF_8),
        "Authorization: Bearer wrong"), 401, "token");
  }

  // ---- builders -------------------------------------------------------------------------------

  static byte[] encode(BufferedImage image, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (!ImageIO.write(image, format, out)) {
        throw new IllegalStateException("no ImageIO writer for " + format);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] randomBytes(int n, long seed) {
    byte[] bytes = new byte[n];
    new java.util.Random(seed).nextBytes(bytes);
    return bytes;
  }

  private static byte[] withMagic(byte[] bytes, int first, int second) {
    bytes[0] = (byte) first;
    bytes[1] = (byte) second;
    return bytes;
  }

  static byte[] deflate(byte[] raw) {
    Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
    deflater.setInput(raw);
    deflater.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    while (!deflater.finished()) {
      out.write(buffer, 0, deflater.deflate(buffer));
    }
    deflater.end();
    return out.toByteArray();
  }

  /** A PNG from its parts: IHDR as given, one IDAT (none if null), IEND; CRCs correct. */
  static byte[] pngFile(int width, int height, int bitDepth, int colourType, byte[] idat) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) bitDepth).put((byte) colourType)
        .put((byte) 0).put((byte) 0).put((byte) 0).array());
    if (idat != null) {
      chunk(out, "IDAT", idat);
    }
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(typeBytes);
    out.writeBytes(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  /** Offset of the first JPEG marker 0xFF {@code code}. */
  static int marker(byte[] jpeg, int code) {
    for (int i = 2; i + 1 < jpeg.length; i++) {
      if ((jpeg[i] & 0xff) == 0xFF && (jpeg[i + 1] & 0xff) == code) {
        return i;
      }
    }
    throw new IllegalStateException("no marker " + Integer.toHexString(code));
  }

  /** The real JPEG with its frame header (SOF0) declaring another size. */
  private byte[] jpegWithSize(int width, int height) {
    byte[] copy = jpeg.clone();
    int sof = marker(copy, 0xC0);
    ByteBuffer.wrap(copy, sof + 5, 4).putShort((short) height).putShort((short) width);
    return copy;
  }

  private static byte[] chunked(String path, String contentType, byte[] body) {
    byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: " + contentType
        + "\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(head);
    for (int at = 0; at < body.length; at += 4096) {
      int n = Math.min(4096, body.length - at);
      out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.write(body, at, n);
      out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
    }
    out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    return out.toByteArray();
  }

  static JsonArray shape(long n) {
    return new JsonArray().add(n).add(3).add(32).add(32);
  }

  static JsonArray zeros(int images) {
    JsonArray data = new JsonArray();
    for (int i = 0; i < images * 3072; i++) {
      data.add(0);
    }
    return data;
  }

  static JsonObject tensor(String datatype, JsonArray shape, JsonArray data) {
    return new JsonObject().put("name", "input").put("shape", shape).put("datatype", datatype).put("data", data);
  }

  static JsonObject oip(JsonObject tensor) {
    return new JsonObject().put("inputs", new JsonArray().add(tensor));
  }

  private static JsonObject withoutKey(JsonObject object, String key) {
    object.remove(key);
    return object;
  }

  /** A one-image request whose first value is {@code token} verbatim (not valid JSON for NaN/Infinity). */
  private static String oipText(String datatype, String token) {
    String rest = ",0".repeat(3071);
    return "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"" + datatype + "\", \"shape\": [1,3,32,32], \"data\": ["
        + token + rest + "]}]}";
  }
}
