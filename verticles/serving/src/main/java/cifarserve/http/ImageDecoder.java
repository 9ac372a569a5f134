package cifarserve.http;

import cifarserve.data.CifarImages;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Turns a PNG or JPEG of any size into the 32x32 RGB CHW bytes the model takes.
 *
 * <p>How: the image's centre square is cut out (keeping the aspect ratio, as torchvision's
 * Resize+CenterCrop does), then halved with bilinear filtering while it is at least 64 pixels wide,
 * then scaled bilinearly to 32x32. Halving step by step averages every source pixel, so a large photo
 * is not aliased the way a single bilinear jump would leave it. Transparent pixels are composited on
 * white; grey and palette images are converted to RGB.
 */
public final class ImageDecoder {
  /** Thrown for bytes that are not a decodable PNG/JPEG, or an image too large to decode safely. */
  public static final class UndecodableImageException extends Exception {
    UndecodableImageException(String message) {
      super(message);
    }
  }

  private ImageDecoder() {
  }

  public static byte[] toCifarPixels(byte[] encoded, long maxPixels) throws UndecodableImageException {
    BufferedImage image = decode(encoded, maxPixels);
    return toChw(resize(centreSquare(image)));
  }

  static BufferedImage decode(byte[] encoded, long maxPixels) throws UndecodableImageException {
    if (ImageIO.getUseCache()) {
      // The bytes are in memory already: ImageIO's default would copy every upload to a temp file.
      ImageIO.setUseCache(false);
    }
    try (ImageInputStream input = ImageIO.createImageInputStream(new ByteArrayInputStream(encoded))) {
      ImageReader reader = pngOrJpegReader(ImageIO.getImageReaders(input));
      try {
        reader.setInput(input, true, true);
        // Check the declared size before decoding: a small file can declare a huge image.
        long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
        if (pixels > maxPixels) {
          throw new UndecodableImageException(String.format(
              "image is %dx%d pixels, above the limit of %d pixels", reader.getWidth(0), reader.getHeight(0), maxPixels));
        }
        BufferedImage image = reader.read(0);
        if (image == null || image.getWidth() < 1 || image.getHeight() < 1) {
          throw new UndecodableImageException("image has no pixels");
        }
        return image;
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      throw new UndecodableImageException("image could not be decoded: "
          + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()));
    }
  }

  /**
   * ImageIO picks a reader by the bytes, so a GIF, BMP, TIFF or WBMP would be decoded too: only PNG and
   * JPEG are the API, and every extra decoder is more parser exposed to untrusted uploads.
   */
  private static ImageReader pngOrJpegReader(Iterator<ImageReader> readers)
      throws IOException, UndecodableImageException {
    while (readers.hasNext()) {
      ImageReader reader = readers.next();
      String format = reader.getFormatName().toLowerCase(java.util.Locale.ROOT);
      if (format.equals("png") || format.equals("jpeg")) {
        return reader;
      }
      reader.dispose();
    }
    throw new UndecodableImageException("body is not a decodable PNG or JPEG image");
  }

  static BufferedImage centreSquare(BufferedImage image) {
    int side = Math.min(image.getWidth(), image.getHeight());
    int x = (image.getWidth() - side) / 2;
    int y = (image.getHeight() - side) / 2;
    BufferedImage square = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = square.createGraphics();
    try {
      g.setColor(java.awt.Color.WHITE);
      g.fillRect(0, 0, side, side);
      g.drawImage(image, -x, -y, null);
    } finally {
      g.dispose();
    }
    return square;
  }

  static BufferedImage resize(BufferedImage square) {
    BufferedImage current = square;
    int side = current.getWidth();
    while (side / 2 >= CifarImages.SIDE) {
      side /= 2;
      current = scale(current, side);
    }
    return side == CifarImages.SIDE ? current : scale(current, CifarImages.SIDE);
  }

  private static BufferedImage scale(BufferedImage source, int side) {
    BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.drawImage(source, 0, 0, side, side, null);
    } finally {
      g.dispose();
    }
    return out;
  }

  /** 32x32 RGB image to CIFAR's layout: the red plane, then green, then blue. */
  static byte[] toChw(BufferedImage image) {
    int plane = CifarImages.SIDE * CifarImages.SIDE;
    byte[] out = new byte[CifarImages.PIXELS_PER_IMAGE];
    for (int y = 0; y < CifarImages.SIDE; y++) {
      for (int x = 0; x < CifarImages.SIDE; x++) {
        int rgb = image.getRGB(x, y);
        int i = y * CifarImages.SIDE + x;
        out[i] = (byte) (rgb >> 16);
        out[plane + i] = (byte) (rgb >> 8);
        out[2 * plane + i] = (byte) rgb;
      }
    }
    return out;
  }

  /** The reverse, for tests and the load tester: CHW bytes as a 32x32 RGB image. */
  public static BufferedImage fromChw(byte[] chw) {
    int plane = CifarImages.SIDE * CifarImages.SIDE;
    BufferedImage image = new BufferedImage(CifarImages.SIDE, CifarImages.SIDE, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < CifarImages.SIDE; y++) {
      for (int x = 0; x < CifarImages.SIDE; x++) {
        int i = y * CifarImages.SIDE + x;
        image.setRGB(x, y, (chw[i] & 0xff) << 16 | (chw[plane + i] & 0xff) << 8 | (chw[2 * plane + i] & 0xff));
      }
    }
    return image;
  }
}
