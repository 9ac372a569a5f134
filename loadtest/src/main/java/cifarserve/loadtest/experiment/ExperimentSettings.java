package cifarserve.loadtest.experiment;

import java.nio.file.Path;

/** Everything a run of the experiment needs, fixed before it starts. */
record ExperimentSettings(Path out, int repeat, boolean quick, String functionImage, Path functionArchive,
    String nodeImage, Path nodeArchive, Path cifarDir, byte[] imagePng, Path imagePngFile, int trainLimit,
    int testLimit, double epochs, int zeroDurationSeconds, int closedSeconds, int openSeconds, int idleSeconds,
    int startTimeoutSeconds, boolean abAvailable, String command) {
  /**
   * The node's from-nothing budget in conf/ (training.epochs of ec2.json and local.json; a test keeps them
   * equal): the experiment trains what a deployed node trains unless --epochs says otherwise.
   */
  static final double FROM_NOTHING_EPOCHS = 3;

  /** Epochs as people write them: 3, 2.75. */
  static String epochsText(double epochs) {
    return epochs == Math.rint(epochs) ? String.valueOf((long) epochs) : String.valueOf(epochs);
  }
}
