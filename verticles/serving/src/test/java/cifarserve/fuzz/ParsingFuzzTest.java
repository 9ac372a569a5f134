package cifarserve.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.data.CifarBinaryReader;
import cifarserve.data.CifarFormatException;
import cifarserve.data.CifarImages;
import cifarserve.http.ApiError;
import cifarserve.http.ImageDecoder;
import cifarserve.http.InferenceRequests;
import cifarserve.inference.ImageBatch;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vertx.core.buffer.Buffer;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing (Jazzer) of everything that parses client or disk bytes: image decoding, the
 * classify body (Content-Type or sniffing, PNG/JPEG/raw), raw CIFAR records and Open Inference Protocol
 * JSON. The contract each checks: an input is either accepted with a well-formed result or refused with
 * the parser's own error (a 4xx ApiError, UndecodableImageException, CifarFormatException); any other
 * exception, a hang or a memory blow-up is a finding.
 *
 * <p>{@code mvn verify} runs each test on its corpus, {@code ParsingFuzzTestInputs/<method>/} under test
 * resources (seeds: small PNGs/JPEGs in several colour models, raw records, OIP requests; findings of
 * fuzzing runs are written there too). Fuzzing proper: {@code verticles/serving/src/test/fuzz.sh}.
 */
class ParsingFuzzTest {
  /** One fuzzing run of one target (only in fuzzing mode, JAZZER_FUZZ=1); fuzz.sh repeats rounds for longer runs. */
  static final String FUZZ_ROUND = "15s";
  /** The service's default {@code http.maxImagePixels}. */
  static final long MAX_IMAGE_PIXELS = 12_000_000;
  /** A small queue bound, so the "more images than the queue holds" branch is reachable. */
  static final int MAX_IMAGES = 8;
  /** The classify body's Content-Type, picked by the input's first byte (0: none, so the body is sniffed). */
  static final String[] CONTENT_TYPES = {null, "image/png", "image/jpeg", "application/octet-stream",
      "image/jpg; q=1", "text/plain", "IMAGE/PNG ;charset=x", ""};

  @FuzzTest(maxDuration = FUZZ_ROUND)
  void imageDecoding(byte[] encoded) {
    try {
      assertThat(ImageDecoder.toCifarPixels(encoded, MAX_IMAGE_PIXELS)).hasSize(CifarImages.PIXELS_PER_IMAGE);
    } catch (ImageDecoder.UndecodableImageException refused) {
      assertThat(refused.getMessage()).isNotBlank();
    }
  }

  @FuzzTest(maxDuration = FUZZ_ROUND)
  void classifyBody(byte[] input) {
    if (input.length == 0) {
      return;
    }
    String contentType = CONTENT_TYPES[(input[0] & 0xff) % CONTENT_TYPES.length];
    Buffer body = Buffer.buffer(Arrays.copyOfRange(input, 1, input.length));
    try {
      ImageBatch images = InferenceRequests.classifyBody(contentType, body, MAX_IMAGE_PIXELS);
      assertThat(images.count()).isEqualTo(1);
      assertThat(images.pixels().length()).isEqualTo(CifarImages.PIXELS_PER_IMAGE);
    } catch (ApiError refused) {
      assertClientError(refused);
    }
  }

  @FuzzTest(maxDuration = FUZZ_ROUND)
  void rawRecords(byte[] data) {
    try {
      CifarImages images = CifarBinaryReader.parse(data, "fuzz");
      assertThat(images.size()).isEqualTo(data.length / CifarImages.RECORD_BYTES);
    } catch (CifarFormatException refused) {
      assertThat(refused.getMessage()).startsWith("fuzz: ");
    }
  }

  @FuzzTest(maxDuration = FUZZ_ROUND)
  @DictionaryEntries({"{\"inputs\":[", "\"name\":\"input\"", "\"shape\":[1,3,32,32]", "\"datatype\":\"FP32\"",
      "\"datatype\":\"UINT8\"", "\"data\":[", "\"outputs\":[{\"name\":\"label\"}]", "\"probabilities\"", "\"id\":",
      "1e309", "-0.0", "NaN", "null", "true"})
  void openInferenceJson(byte[] json) {
    try {
      InferenceRequests.OpenInferenceRequest request = InferenceRequests.openInferenceBody(Buffer.buffer(json), MAX_IMAGES);
      assertThat(request.images().count()).isBetween(1, MAX_IMAGES);
      int bytesPerValue = request.images().elementType() == ImageBatch.FLOAT32 ? Float.BYTES : 1;
      assertThat(request.images().pixels().length())
          .isEqualTo(request.images().count() * CifarImages.PIXELS_PER_IMAGE * bytesPerValue);
      assertThat(InferenceRequests.OUTPUT_NAMES).containsAll(request.outputs());
    } catch (ApiError refused) {
      assertClientError(refused);
    }
  }

  private static void assertClientError(ApiError refused) {
    assertThat(refused.status()).as(refused.getMessage()).isBetween(400, 499);
    assertThat(refused.getMessage()).isNotBlank();
  }
}
