package cifarserve.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import cifarserve.data.CifarImages;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The request path's encodings: none on one node (LocalCodec), the wire format only for spill. */
@Tag("unit")
class CodecsTest {
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    LocalCodec.register(vertx.eventBus());
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void onOneNodeTheImagesAndTheAnswerTravelAsTheSameObjects() throws Exception {
    ImageBatch sent = ImageBatch.ofBytes(new byte[CifarImages.PIXELS_PER_IMAGE * 2]);
    Batcher.Result answer = new Batcher.Result("v1", new float[2][10]);
    ImageBatch[] received = new ImageBatch[1];
    vertx.eventBus().<ImageBatch>localConsumer("codec-test", message -> {
      received[0] = message.body();
      message.reply(answer, new DeliveryOptions().setCodecName(LocalCodec.RESULT.name()));
    });
    Message<Batcher.Result> reply = vertx.eventBus().<Batcher.Result>request("codec-test", sent,
        new DeliveryOptions().setCodecName(LocalCodec.IMAGES.name()).setLocalOnly(true))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(received[0]).isSameAs(sent);
    assertThat(reply.body()).isSameAs(answer);
  }

  @Test
  void theLocalCodecsRefuseTheWire() {
    assertThatThrownBy(() -> LocalCodec.IMAGES.encodeToWire(Buffer.buffer(), null))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> LocalCodec.RESULT.decodeFromWire(0, Buffer.buffer()))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void theSpillWireFormatRoundTrips() {
    byte[] pixels = new byte[CifarImages.PIXELS_PER_IMAGE * 3];
    pixels[5] = (byte) 200;
    ImageBatch bytes = ImageBatch.decode(ImageBatch.ofBytes(pixels).encode());
    assertThat(bytes.count()).isEqualTo(3);
    assertThat(bytes.elementType()).isEqualTo(ImageBatch.UINT8);
    assertThat(bytes.pixels().getBytes()).isEqualTo(pixels);

    float[] unit = new float[CifarImages.PIXELS_PER_IMAGE];
    unit[7] = 0.25f;
    ImageBatch floats = ImageBatch.decode(ImageBatch.ofUnitFloats(unit).encode());
    assertThat(floats.elementType()).isEqualTo(ImageBatch.FLOAT32);
    assertThat(floats.pixels().getFloat(7 * 4)).isEqualTo(0.25f);

    float[][] rows = {{0.1f, 0.9f, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0.5f, 0.5f}};
    assertThat(Predictions.decode(Predictions.encode(rows))).isDeepEqualTo(rows);
  }

  @Test
  void aMalformedBatchIsRefused() {
    assertThatThrownBy(() -> ImageBatch.decode(Buffer.buffer(new byte[3]))).isInstanceOf(IllegalArgumentException.class);
    Buffer wrongLength = Buffer.buffer().appendByte(ImageBatch.UINT8).appendInt(2).appendBytes(new byte[10]);
    assertThatThrownBy(() -> ImageBatch.decode(wrongLength)).isInstanceOf(IllegalArgumentException.class);
  }
}
