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

  public static Evaluation of(LoadedModel model, CifarImages images) {
    int chunk = 250;
    int correct = 0;
    int[] perClassTotal = new int[CifarClasses.COUNT];
    int[] perClassCorrect = new int[CifarClasses.COUNT];
    for (int from = 0; from < images.size(); from += chunk) {
      int count = Math.min(chunk, images.size() - from);
      float[][] probabilities = model.predict(Normalization.fromBytes(images.pixels(), from, count), count);
      for (int i = 0; i < count; i++) {
        int label = images.label(from + i);
        perClassTotal[label]++;
        if (Predictions.argMax(probabilities[i]) == label) {
          correct++;
          perClassCorrect[label]++;
        }
      }
    }
    double[] perClass = new double[CifarClasses.COUNT];
    for (int c = 0; c < CifarClasses.COUNT; c++) {
      perClass[c] = perClassTotal[c] == 0 ? 0 : perClassCorrect[c] / (double) perClassTotal[c];
    }
    return new Evaluation(images.size() == 0 ? 0 : correct / (double) images.size(), correct, images.size(), perClass);
  }
}
