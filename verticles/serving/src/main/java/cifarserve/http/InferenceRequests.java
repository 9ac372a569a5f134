package cifarserve.http;

import cifarserve.data.CifarImages;
import cifarserve.inference.ImageBatch;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Parses request bodies into image batches, with a 4xx {@link ApiError} for every kind of bad input.
 * Blocking-safe but CPU-bound: the HTTP verticle calls it on a worker for images and large JSON.
 */
public final class InferenceRequests {
  public static final String PNG = "image/png";
  public static final String JPEG = "image/jpeg";
  public static final String RAW = "application/octet-stream";
  public static final List<String> CLASSIFY_TYPES = List.of(PNG, JPEG, RAW);
  /** Most images one Open Inference Protocol request may carry. */
  public static final int MAX_BATCH = 1024;

  private InferenceRequests() {
  }

  /** Body of POST /v1/classify: a PNG/JPEG, or one raw CIFAR record (3072 pixels, or 3073 with a label byte). */
  public static ImageBatch classifyBody(String contentType, Buffer body, long maxImagePixels) {
    String type = mediaType(contentType);
    if (type == null) {
      // No Content-Type (curl --data-binary without -H): recognise the body instead of guessing.
      type = sniff(body);
    }
    if (body == null || body.length() == 0) {
      throw new ApiError(400, "empty body: send a PNG or JPEG image, or a 3072-byte CIFAR-10 pixel record");
    }
    switch (type == null ? "" : type) {
      case PNG, JPEG, "image/jpg" -> {
        try {
          return ImageBatch.ofBytes(ImageDecoder.toCifarPixels(body.getBytes(), maxImagePixels));
        } catch (ImageDecoder.UndecodableImageException e) {
          throw new ApiError(400, e.getMessage());
        }
      }
      case RAW -> {
        int length = body.length();
        if (length == CifarImages.PIXELS_PER_IMAGE) {
          return ImageBatch.ofBytes(body.getBytes());
        }
        if (length == CifarImages.RECORD_BYTES) {
          // A whole record as stored in the .bin files: skip its label byte.
          return ImageBatch.ofBytes(body.getBytes(1, length));
        }
        throw new ApiError(400, "a raw CIFAR-10 record is 3072 pixel bytes (R, G, B planes of 32x32), or 3073 with"
            + " its label byte first; got " + length + " bytes");
      }
      default -> throw new ApiError(415, "unsupported Content-Type '" + contentType + "': use one of "
          + String.join(", ", CLASSIFY_TYPES));
    }
  }

  /**
   * Whether a /v1/classify body is a raw pixel record (by its Content-Type): decoding one is a 3 KB copy,
   * cheaper than handing it to a worker thread and back. Images (PNG, JPEG) are real decoding work.
   */
  public static boolean isRawRecord(String contentType) {
    return RAW.equals(mediaType(contentType));
  }

  static String mediaType(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return null;
    }
    int semicolon = contentType.indexOf(';');
    return (semicolon >= 0 ? contentType.substring(0, semicolon) : contentType).trim().toLowerCase();
  }

  /** Without a Content-Type: PNG and JPEG by their magic numbers, else a raw record by its exact length. */
  static String sniff(Buffer body) {
    if (body == null || body.length() < 4) {
      return null;
    }
    if (body.length() == CifarImages.PIXELS_PER_IMAGE || body.length() == CifarImages.RECORD_BYTES) {
      return RAW;
    }
    if ((body.getByte(0) & 0xff) == 0x89 && body.getByte(1) == 'P' && body.getByte(2) == 'N' && body.getByte(3) == 'G') {
      return PNG;
    }
    if ((body.getByte(0) & 0xff) == 0xFF && (body.getByte(1) & 0xff) == 0xD8) {
      return JPEG;
    }
    return null;
  }

  /** The model's one input tensor and its outputs, as GET /v2/models/cifar10-cnn describes them. */
  public static final String INPUT_NAME = "input";
  public static final List<String> OUTPUT_NAMES = List.of("probabilities", "label");

  /** A parsed Open Inference Protocol v2 request: its optional id, its images and the outputs asked for. */
  public record OpenInferenceRequest(String id, ImageBatch images, List<String> outputs) {
  }

  /**
   * An Open Inference Protocol v2 request with one input tensor, shape [N,3,32,32], FP32 (0-1) or UINT8.
   * N above {@code maxImages} (what the inference queue can ever hold) is 413: retrying cannot help.
   */
  public static OpenInferenceRequest openInferenceBody(Buffer body, int maxImages) {
    JsonObject request;
    try {
      request = body == null || body.length() == 0 ? null : new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      throw new ApiError(400, "body is not a JSON object: " + e.getMessage());
    }
    if (request == null) {
      throw new ApiError(400, "empty body: send {\"inputs\": [{\"name\": \"input\", \"shape\": [N,3,32,32], "
          + "\"datatype\": \"FP32\"|\"UINT8\", \"data\": [...]}]}");
    }
    JsonArray inputs = array(request, "inputs");
    if (inputs == null || inputs.size() != 1) {
      throw new ApiError(400, "'inputs' must be an array of exactly one tensor");
    }
    if (!(inputs.getValue(0) instanceof JsonObject input)) {
      throw new ApiError(400, "inputs[0] must be a tensor object");
    }
    if (!INPUT_NAME.equals(input.getValue("name"))) {
      throw new ApiError(400, "unknown input tensor '" + input.getValue("name") + "': the model's input is named '"
          + INPUT_NAME + "'");
    }
    List<String> outputs = requestedOutputs(request);
    JsonArray shape = array(input, "shape");
    if (shape == null || shape.size() != 4) {
      throw new ApiError(400, "input shape must be [N, 3, 32, 32], got " + input.getValue("shape"));
    }
    long[] dims = new long[4];
    for (int i = 0; i < 4; i++) {
      if (!(shape.getValue(i) instanceof Number n) || n.doubleValue() != n.longValue()) {
        throw new ApiError(400, "input shape must hold integers, got " + shape);
      }
      dims[i] = n.longValue();
    }
    if (dims[1] != CifarImages.CHANNELS || dims[2] != CifarImages.SIDE || dims[3] != CifarImages.SIDE) {
      throw new ApiError(400, "input shape must be [N, 3, 32, 32] (NCHW), got " + shape);
    }
    if (dims[0] < 1 || dims[0] > MAX_BATCH) {
      throw new ApiError(400, "batch size N must be between 1 and " + MAX_BATCH + ", got " + dims[0]);
    }
    if (dims[0] > maxImages) {
      throw new ApiError(413, "batch of " + dims[0] + " images is more than the inference queue holds ("
          + maxImages + "): split it into smaller requests");
    }
    int count = (int) dims[0];
    String datatype = input.getValue("datatype") instanceof String s ? s : null;
    if (!"FP32".equals(datatype) && !"UINT8".equals(datatype)) {
      throw new ApiError(400, "datatype must be FP32 (pixels scaled to 0-1) or UINT8 (0-255), got " + datatype);
    }
    JsonArray data = array(input, "data");
    if (data == null) {
      throw new ApiError(400, "input 'data' must be an array");
    }
    int expected = count * CifarImages.PIXELS_PER_IMAGE;
    float[] values = new float[expected];
    int filled = flatten(data, values, 0, expected);
    if (filled != expected) {
      throw new ApiError(400, "input data holds " + filled + " values, shape " + shape + " needs " + expected);
    }
    if ("UINT8".equals(datatype)) {
      byte[] bytes = new byte[expected];
      for (int i = 0; i < expected; i++) {
        float v = values[i];
        if (v < 0 || v > 255 || v != Math.floor(v)) {
          throw new ApiError(400, "UINT8 data must be integers 0-255; value " + i + " is " + v);
        }
        bytes[i] = (byte) (int) v;
      }
      return new OpenInferenceRequest(idOf(request), ImageBatch.ofBytes(bytes), outputs);
    }
    for (int i = 0; i < expected; i++) {
      if (!(values[i] >= 0f && values[i] <= 1f)) {
        throw new ApiError(400, "FP32 data must be pixel intensities scaled to 0-1; value " + i + " is " + values[i]);
      }
    }
    return new OpenInferenceRequest(idOf(request), ImageBatch.ofUnitFloats(values), outputs);
  }

  /** The "outputs" a client asked for, by name; all of them when it asks for none. */
  private static List<String> requestedOutputs(JsonObject request) {
    Object value = request.getValue("outputs");
    if (value == null) {
      return OUTPUT_NAMES;
    }
    if (!(value instanceof JsonArray asked) || asked.isEmpty()) {
      throw new ApiError(400, "'outputs' must be a non-empty array of {\"name\": ...} objects");
    }
    List<String> names = new java.util.ArrayList<>();
    for (Object output : asked) {
      Object name = output instanceof JsonObject o ? o.getValue("name") : null;
      if (!(name instanceof String s) || !OUTPUT_NAMES.contains(s)) {
        throw new ApiError(400, "unknown output " + (name != null ? "'" + name + "'" : output) + ": the model's outputs are "
            + String.join(", ", OUTPUT_NAMES));
      }
      if (!names.contains(s)) {
        names.add(s);
      }
    }
    return List.copyOf(names);
  }

  private static String idOf(JsonObject request) {
    return request.getValue("id") instanceof String id ? id : null;
  }

  /** Copies numbers from a flat or nested array; returns how many there were (stops counting past max). */
  private static int flatten(JsonArray data, float[] out, int at, int max) {
    for (Object value : data) {
      if (value instanceof JsonArray nested) {
        at = flatten(nested, out, at, max);
      } else if (value instanceof Number number) {
        if (at < max) {
          out[at] = number.floatValue();
        }
        at++;
      } else {
        throw new ApiError(400, "input data must hold only numbers, found " + (value == null ? "null" : value));
      }
      if (at > max) {
        return at;
      }
    }
    return at;
  }

  private static JsonArray array(JsonObject object, String key) {
    Object value = object.getValue(key);
    return value instanceof JsonArray a ? a : null;
  }
}
