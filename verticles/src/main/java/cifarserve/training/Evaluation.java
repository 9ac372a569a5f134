package cifarserve.training;

import cifarserve.data.CifarClasses;
import cifarserve.data.CifarImages;
import cifarserve.inference.Predictions;
import cifarserve.model.LoadedModel;
import cifarserve.model.Normalization;
import io.vertx.core.json.JsonObject;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** Accuracy (overall and per class) of a model on labelled images. */
public record Evaluation(double accuracy, int correct, int total, double[] perClassAccuracy) {
  public JsonObject perClassJson() {
    JsonObject json = new JsonObject();
    for (int c = 0; c < CifarClasses.COUNT; c++) {
      json.put(CifarClasses.name(c), Math.round(perClassAccuracy[c] * 10000) / 10000.0);
    }
    return json;
  }

  public static Evaluation of(MultiLayerNetwork network, CifarImages images) {
    return of(new LoadedModel(new JsonObject().put("version", "evaluation"), network), images);
  }

  /** DL4J's answers for the images. */
  public static Evaluation of(LoadedModel model, CifarImages images) {
    float[][] probabilities = new float[images.size()][];
    for (int from = 0; from < images.size(); from += LoadedModel.EVALUATION_BATCH) {
      int count = Math.min(LoadedModel.EVALUATION_BATCH, images.size() - from);
      System.arraycopy(model.predict(Normalization.fromBytes(images.pixels(), from, count), count), 0,
          probabilities, from, count);
    }
    return of(probabilities, images);
  }

  /** Scores answers already computed (e.g. ONNX Runtime's): row i holds image i's class probabilities. */
  public static Evaluation of(float[][] probabilities, CifarImages images) {
    if (probabilities.length < images.size()) {
      throw new IllegalArgumentException(probabilities.length + " answers for " + images.size() + " images");
    }
    int correct = 0;
    int[] perClassTotal = new int[CifarClasses.COUNT];
    int[] perClassCorrect = new int[CifarClasses.COUNT];
    for (int i = 0; i < images.size(); i++) {
      int label = images.label(i);
      perClassTotal[label]++;
      if (Predictions.argMax(probabilities[i]) == label) {
        correct++;
        perClassCorrect[label]++;
      }
    }
    double[] perClass = new double[CifarClasses.COUNT];
    for (int c = 0; c < CifarClasses.COUNT; c++) {
      perClass[c] = perClassTotal[c] == 0 ? 0 : perClassCorrect[c] / (double) perClassTotal[c];
    }
    return new Evaluation(images.size() == 0 ? 0 : correct / (double) images.size(), correct, images.size(), perClass);
  }
}
