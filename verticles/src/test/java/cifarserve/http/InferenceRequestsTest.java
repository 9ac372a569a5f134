package cifarserve.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import cifarserve.data.CifarImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

/** Parsing of request bodies: the defects of issue 15 found by a bad-input corpus. */
@Tag("unit")
class InferenceRequestsTest {
  private static final long PIXELS = 4_000_000;

  static JsonObject oip(String inputName, int n, JsonArray outputs) {
    JsonArray data = new JsonArray();
    for (int i = 0; i < n * CifarImages.PIXELS_PER_IMAGE; i++) {
      data.add(0);
    }
    JsonObject request = new JsonObject().put("inputs", new JsonArray().add(new JsonObject()
        .put("name", inputName).put("shape", new JsonArray().add(n).add(3).add(32).add(32))
        .put("datatype", "UINT8").put("data", data)));
    return outputs == null ? request : request.put("outputs", outputs);
  }

  static InferenceRequests.OpenInferenceRequest parse(JsonObject request, int maxImages) {
    return InferenceRequests.openInferenceBody(request.toBuffer(), maxImages);
  }

  static int status(Runnable action) {
    try {
      action.run();
      return 200;
    } catch (ApiError e) {
      return e.status();
    }
  }

  @Test
  void rawRecordWithoutContentTypeIsSniffedByItsLength() {
    assertThat(InferenceRequests.classifyBody(null, Buffer.buffer(new byte[3072]), PIXELS).count()).isEqualTo(1);
    assertThat(InferenceRequests.classifyBody("", Buffer.buffer(new byte[3073]), PIXELS).count()).isEqualTo(1);
  }

  @Test
  void unknownBodyWithoutContentTypeIs415() {
    assertThat(status(() -> InferenceRequests.classifyBody(null, Buffer.buffer("hello cat"), PIXELS))).isEqualTo(415);
    assertThat(status(() -> InferenceRequests.classifyBody(null, Buffer.buffer(new byte[3000]), PIXELS))).isEqualTo(415);
  }

  @Test
  void requestedOutputsAreHonoured() {
    assertThat(parse(oip("input", 1, null), 8).outputs()).containsExactly("probabilities", "label");
    JsonArray onlyLabel = new JsonArray().add(new JsonObject().put("name", "label"));
    assertThat(parse(oip("input", 1, onlyLabel), 8).outputs()).containsExactly("label");
  }

  @Test
  void unknownOutputOrInputNameIs400() {
    JsonArray unknown = new JsonArray().add(new JsonObject().put("name", "logits"));
    assertThatThrownBy(() -> parse(oip("input", 1, unknown), 8)).isInstanceOf(ApiError.class)
        .hasMessageContaining("logits").extracting(e -> ((ApiError) e).status()).isEqualTo(400);
    assertThatThrownBy(() -> parse(oip("pixels", 1, null), 8)).isInstanceOf(ApiError.class)
        .hasMessageContaining("pixels").extracting(e -> ((ApiError) e).status()).isEqualTo(400);
    JsonArray notObjects = new JsonArray().add("label");
    assertThat(status(() -> parse(oip("input", 1, notObjects), 8))).isEqualTo(400);
  }

  @Test
  void batchLargerThanTheQueueCanEverHoldIs413NotARetryableOverload() {
    assertThat(status(() -> parse(oip("input", 2, null), 2))).isEqualTo(200);
    assertThat(status(() -> parse(oip("input", 3, null), 2))).isEqualTo(413);
  }

  @Test
  void imageIoDoesNotSpoolToTempFiles() throws Exception {
    ImageIO.setUseCache(true);
    java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
    ImageIO.write(new java.awt.image.BufferedImage(40, 40, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", png);
    assertThat(ImageDecoder.toCifarPixels(png.toByteArray(), PIXELS)).hasSize(CifarImages.PIXELS_PER_IMAGE);
    assertThat(ImageIO.getUseCache()).as("ImageIO writes every image to a temp file").isFalse();
  }
}
