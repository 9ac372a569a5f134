package cifarserve.loadtest.experiment;

import java.nio.file.Path;

/** Everything a run of the experiment needs, fixed before it starts. */
record ExperimentSettings(Path out, int repeat, boolean quick, String functionImage, Path functionArchive,
    String nodeImage, Path nodeArchive, Path cifarDir, byte[] imagePng, Path imagePngFile, int trainLimit,
    int testLimit, int epochs, int zeroDurationSeconds, int closedSeconds, int openSeconds, int idleSeconds,
    int startTimeoutSeconds, boolean abAvailable, String command) {
}
