package cifarserve.loadtest.payload;

import io.vertx.core.buffer.Buffer;
import java.util.List;

/** Hands out request bodies: always the same one, or a list in rotation (the CIFAR-10 records). */
public final class PayloadSource {
  private final List<Payload> payloads;

  private PayloadSource(List<Payload> payloads) {
    this.payloads = List.copyOf(payloads);
  }

  public static PayloadSource none() {
    return new PayloadSource(List.of(Payload.NONE));
  }

  public static PayloadSource single(byte[] body, String contentType) {
    return new PayloadSource(List.of(new Payload(Buffer.buffer(body), contentType, -1)));
  }

  public static PayloadSource rotating(List<Payload> payloads) {
    if (payloads.isEmpty()) {
      throw new IllegalArgumentException("no payloads");
    }
    return new PayloadSource(payloads);
  }

  /** The body for the n-th request (round robin). */
  public Payload get(long sequence) {
    return payloads.get((int) Math.floorMod(sequence, (long) payloads.size()));
  }

  public int size() {
    return payloads.size();
  }

  /** True when answers can be checked against a known label. */
  public boolean labelled() {
    return payloads.get(0).expectedIndex() >= 0;
  }
}
