package cifarserve.inference;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Hands an object to a consumer on the same node as is: a request on one node is never serialized
 * for the event bus. Only spill ({@link cifarserve.cluster.ClusterDispatch}) encodes, and it sends the
 * wire format ({@link ImageBatch#encode()}, {@link Predictions}) explicitly; so these codecs refuse
 * the wire rather than define a second one. The objects passed are not modified after sending.
 */
public final class LocalCodec<T> implements MessageCodec<T, T> {
  /** HTTP side -> inference verticle: the decoded images. */
  public static final LocalCodec<ImageBatch> IMAGES = new LocalCodec<>("cifar-local-images");
  /** Inference verticle -> HTTP side: the probabilities and the version of the model that computed them. */
  public static final LocalCodec<Batcher.Result> RESULT = new LocalCodec<>("cifar-local-result");

  private final String name;

  private LocalCodec(String name) {
    this.name = name;
  }

  public static void register(EventBus bus) {
    bus.registerCodec(IMAGES).registerCodec(RESULT);
  }

  public static void unregister(EventBus bus) {
    bus.unregisterCodec(IMAGES.name).unregisterCodec(RESULT.name);
  }

  @Override
  public T transform(T object) {
    return object;
  }

  @Override
  public void encodeToWire(Buffer buffer, T object) {
    throw new UnsupportedOperationException(name + " is for consumers on this node only");
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException(name + " is for consumers on this node only");
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
