package cifarserve.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import cifarserve.TestData;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {
  static byte[] png(BufferedImage image) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  @Test
  void a32x32PngRoundTripsExactly() throws Exception {
    byte[] record = TestData.testImages().image(7);
    assertThat(ImageDecoder.toCifarPixels(png(ImageDecoder.fromChw(record)), 1_000_000)).isEqualTo(record);
  }

  @Test
  void wideImageIsCentreCroppedThenDownscaled() throws Exception {
    // Left and right thirds blue, centre square red: only red may survive the centre crop.
    BufferedImage wide = new BufferedImage(900, 300, BufferedImage.TYPE_INT_RGB);
    var g = wide.createGraphics();
    g.setColor(Color.BLUE);
    g.fillRect(0, 0, 900, 300);
    g.setColor(Color.RED);
    g.fillRect(300, 0, 300, 300);
    g.dispose();
    byte[] chw = ImageDecoder.toCifarPixels(png(wide), 1_000_000);
    for (int i = 0; i < 1024; i++) {
      assertThat(chw[i] & 0xff).isGreaterThan(240);
      assertThat(chw[2048 + i] & 0xff).isLessThan(15);
    }
  }

  @Test
  void transparentPixelsBecomeWhite() throws Exception {
    BufferedImage clear = new BufferedImage(64, 64, BufferedImage.TYPE_INT_ARGB);
    byte[] chw = ImageDecoder.toCifarPixels(png(clear), 1_000_000);
    for (byte b : chw) {
      assertThat(b & 0xff).isEqualTo(255);
    }
  }

  @Test
  void declaredSizeIsCheckedBeforeDecoding() throws Exception {
    byte[] big = png(new BufferedImage(1000, 1000, BufferedImage.TYPE_BYTE_GRAY));
    assertThatThrownBy(() -> ImageDecoder.toCifarPixels(big, 999_999))
        .isInstanceOf(ImageDecoder.UndecodableImageException.class).hasMessageContaining("1000x1000");
  }
}
