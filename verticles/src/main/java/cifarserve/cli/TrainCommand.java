package cifarserve.cli;

import cifarserve.config.ServiceConfig;
import cifarserve.data.CifarDataset;
import cifarserve.data.Datasets;
import cifarserve.model.ModelRepository;
import cifarserve.training.Trainer;
import cifarserve.training.TrainingOptions;
import cifarserve.training.TrainingProgress;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Train the CNN on CIFAR-10, evaluate it on the test set and write a versioned model artifact.")
public final class TrainCommand implements Callable<Integer> {
  @Option(names = "--epochs", description = "passes over the training images; a fraction ends the last pass part-way,"
      + " e.g. 2.75 (default: config training.epochs)")
  Double epochs;

  @Option(names = "--train-limit", description = "use only the first N training images (default: all 50,000)")
  Integer trainLimit;

  @Option(names = "--test-limit", description = "evaluate on the first N test images (default: all 10,000)")
  Integer testLimit;

  @Option(names = "--batch-size", description = "minibatch size (default: config training.batchSize)")
  Integer batchSize;

  @Option(names = "--seed", description = "random seed for weights and shuffling")
  Long seed;

  @Option(names = "--no-flip", description = "disable random horizontal flips of training images")
  boolean noFlip;

  @Option(names = "--learning-rate", description = "peak learning rate of the schedule (default: config training.learningRate)")
  Double learningRate;

  @Option(names = "--base-learning-rate", description = "one-cycle's base: the warm-up climbs from it to the peak"
      + " (default: config training.baseLearningRate; 0 = from zero)")
  Double baseLearningRate;

  @Option(names = "--schedule", description = "learning-rate schedule: cosine (linear warm-up, then cosine to 0; default)"
      + " or constant (the study's)")
  String schedule;

  @Option(names = "--warmup-epochs", description = "epochs of linear warm-up before the cosine decay (default: config training.warmupEpochs)")
  Double warmupEpochs;

  @Option(names = "--crop-padding", description = "random translation by up to N pixels, black fill (pad N + random"
      + " 32x32 crop; default: config training.cropPadding, 0 = off)")
  Integer cropPadding;

  @Option(names = "--save-each-epoch", description = "evaluate and write an artifact after every epoch, not only the last")
  boolean saveEachEpoch;

  @Option(names = "--checkpoint", description = "write the run's state (weights, momentum, schedule position) to FILE"
      + " after every epoch, so a stopped run can be resumed")
  Path checkpoint;

  @Option(names = "--resume", description = "continue the run saved in FILE (its own options and command; the"
      + " checkpoint keeps being updated)")
  Path resume;

  @Option(names = "--model-dir", description = "where the artifact is written (default: config modelDir)")
  Path modelDir;

  @Option(names = "--cifar-dir", description = "folder with the CIFAR-10 .bin files (default: CIFAR_DIR or fetched)")
  Path cifarDir;

  @Option(names = "--conf", description = "JSON config file (default: built-in defaults + environment)")
  Path conf;

  @Option(names = "--progress-seconds", defaultValue = "5", description = "seconds between progress lines")
  double progressSeconds;

  @Override
  public Integer call() {
    try {
      JsonObject config = ServiceConfig.load(conf);
      JsonObject training = config.getJsonObject("training").copy();
      // Each given option: its flag (to record the command) and the training key it sets.
      StringBuilder command = new StringBuilder("java -jar verticles/target/cifar-serve.jar train");
      Object[][] given = {
          {"--epochs", "epochs", epochs == null ? null : TrainingOptions.epochsJson(epochs)}, {"--train-limit", "trainLimit", trainLimit},
          {"--test-limit", "testLimit", testLimit}, {"--batch-size", "batchSize", batchSize},
          {"--seed", "seed", seed}, {"--no-flip", "horizontalFlip", noFlip ? false : null},
          {"--learning-rate", "learningRate", learningRate}, {"--schedule", "schedule", schedule},
          {"--warmup-epochs", "warmupEpochs", warmupEpochs}, {"--base-learning-rate", "baseLearningRate", baseLearningRate}, {"--crop-padding", "cropPadding", cropPadding},
          {"--save-each-epoch", "saveEachEpoch", saveEachEpoch ? true : null}};
      for (Object[] option : given) {
        if (option[2] != null) {
          training.put((String) option[1], option[2]);
          command.append(' ').append(option[0]);
          if (!(option[2] instanceof Boolean)) {
            command.append(' ').append(option[2]);
          }
        }
      }
      if (modelDir != null) {
        command.append(" --model-dir ").append(modelDir);
      }
      TrainingOptions options = TrainingOptions.fromJson(training, command.toString());
      CifarDataset dataset = Datasets.open(config, cifarDir, System.out::println);
      ModelRepository repository = new ModelRepository(modelDir != null ? modelDir : Path.of(config.getString("modelDir")));

      long[] lastPrint = {0};
      String[] lastState = {""};
      Path checkpointFile = resume != null ? resume : checkpoint;
      Trainer.Result result = new Trainer(dataset, repository, checkpointFile, resume != null).train(options, progress -> {
        long now = System.nanoTime();
        if (!progress.state().equals(lastState[0]) || now - lastPrint[0] >= progressSeconds * 1e9) {
          lastPrint[0] = now;
          lastState[0] = progress.state();
          System.out.println(progress.toLine());
        }
      }, () -> false);
      JsonObject meta = result.model().metadata();
      System.out.printf("Model %s: test accuracy %.2f%% on %d images, %s epoch(s) on %d images, %.1f s%n",
          meta.getString("version"), meta.getDouble("accuracy") * 100, meta.getInteger("testImages"),
          meta.getValue("epochs"), meta.getInteger("trainImages"), meta.getDouble("trainingSeconds"));
      System.out.println("Artifact: " + result.metadataFile() + " (+ .zip)");
      System.out.println(TrainingProgress.DONE);
      return 0;
    } catch (Exception e) {
      System.err.println("error: training failed: " + Cli.describe(e));
      return 1;
    }
  }
}
