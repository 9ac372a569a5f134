package cifarserve.loadtest.payload;

import io.vertx.core.buffer.Buffer;

/**
 * One request body. {@code expectedIndex} is the true CIFAR-10 class of the image it carries, or -1
 * when the body is not a labelled image (then no accuracy is computed from the answer).
 */
public record Payload(Buffer body, String contentType, int expectedIndex) {
  public static final Payload NONE = new Payload(null, null, -1);

  public boolean hasBody() {
    return body != null;
  }

  public int length() {
    return body == null ? 0 : body.length();
  }
}
