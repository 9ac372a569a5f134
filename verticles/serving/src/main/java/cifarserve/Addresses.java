package cifarserve;

/** Event-bus addresses: the one place that shows how the verticles talk to each other. */
public final class Addresses {
  /** Request: an {@link cifarserve.inference.ImageBatch} buffer; reply: class probabilities. */
  public static final String INFER = "cifar.inference";
  /** Header of an {@link #INFER} request: ms left of its deadline, which started when its body arrived. */
  public static final String DEADLINE_MS_HEADER = "cifar-deadline-ms";
  /** Request (local): the loaded model's metadata; fails 503 while none is loaded. */
  public static final String MODEL_INFO = "cifar.model.info";
  /** Publish (local): metadata of the model just swapped in by this node's inference verticle. */
  public static final String MODEL_LOADED = "cifar.model.loaded";
  /** Publish (cluster-wide): a new artifact was saved; body: its metadata. */
  public static final String MODEL_READY = "cifar.model.ready";
  /** Request: start a training run (body: optional options JSON); reply 202-style JSON or fail 409. */
  public static final String TRAINING_START = "cifar.training.start";
  /** Request (local): cancel this node's running training run; reply says whether one was running. */
  public static final String TRAINING_CANCEL = "cifar.training.cancel";
  /** Request (local): progress of the current or last training run. */
  public static final String TRAINING_STATUS = "cifar.training.status";

  private Addresses() {
  }
}
