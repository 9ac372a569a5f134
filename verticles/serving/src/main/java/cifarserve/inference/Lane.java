package cifarserve.inference;

import cifarserve.data.CifarImages;
import cifarserve.model.OnnxModel;
import java.nio.FloatBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/** One inference thread of the {@link Batcher}, its session index and its reused input buffer. */
final class Lane {
  final int index;
  final ExecutorService thread;
  /** Only this lane's thread touches it. */
  private FloatBuffer input;
  /** Guarded by the batcher's lock. */
  boolean busy;

  Lane(int index, int maxBatchSize) {
    this.index = index;
    this.thread = Executors.newSingleThreadExecutor(daemon("cifar-inference-" + index));
    this.input = OnnxModel.inputBuffer(Math.max(1, maxBatchSize));
  }

  /** The buffer, emptied, with room for {@code images} (one request may exceed maxBatchSize). */
  FloatBuffer inputFor(int images) {
    if (input.capacity() < images * CifarImages.PIXELS_PER_IMAGE) {
      input = OnnxModel.inputBuffer(images);
    }
    return input.clear();
  }

  static ThreadFactory daemon(String name) {
    return task -> {
      Thread t = new Thread(task, name);
      t.setDaemon(true);
      return t;
    };
  }
}
