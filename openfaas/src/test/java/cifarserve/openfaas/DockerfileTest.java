package cifarserve.openfaas;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.command.BuildImageResultCallback;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * openfaas/Dockerfile (what faas-cli builds) builds from build-image.sh's context and its image serves.
 * No registry is reachable, so eclipse-temurin:17-jre is stood in for by the offline image's own runtime
 * tree without /app: what is checked is the Dockerfile's COPY, user, environment and entrypoint.
 */
class DockerfileTest {
  static final Path TARGET = Samples.ROOT.resolve("openfaas/target");

  @Test
  void dockerfileImageServesAndStopsCleanly() throws Exception {
    Path context = TARGET.resolve("function-context");
    assertThat(context.resolve("Dockerfile")).as("staged by openfaas/build-image.sh").isRegularFile();
    buildStandInBase(TARGET.resolve("rootfs"));
    String image = "cifar-serve-dockerfile-test:latest";
    FunctionContainer.docker().buildImageCmd(context.toFile()).withTags(Set.of(image)).withPull(false)
        .exec(new BuildImageResultCallback()).awaitImageId(10, TimeUnit.MINUTES);

    try (FunctionContainer fn = new FunctionContainer(image, Map.of(), cmd -> { })) {
      fn.start();
      HttpResponse<String> answer = fn.classify(Samples.raw(), "application/octet-stream");
      Samples.assertCat(answer.statusCode(), answer.body());
      assertThat(fn.stopGracefully(30)).as("exit code on docker stop").isZero();
    }
  }

  /** eclipse-temurin:17-jre made of the offline image's tree minus /app, with a JRE's PATH and JAVA_HOME. */
  private static void buildStandInBase(Path rootfs) throws Exception {
    assertThat(rootfs.resolve("opt/java/bin/java")).as("openfaas/build-image.sh's image tree").isRegularFile();
    Path meta = Files.createTempDirectory("standin-base");
    Files.writeString(meta.resolve("Dockerfile"), "FROM scratch\nCOPY . /\nENV PATH=/opt/java/bin JAVA_HOME=/opt/java\n");
    Files.writeString(meta.resolve(".dockerignore"), "Dockerfile\n.dockerignore\n");
    // the build context as one tar stream: the system tar keeps modes and owners as the image tree has them
    Process tar = new ProcessBuilder("tar", "--numeric-owner", "--owner=0", "--group=0", "-cf", "-",
        "-C", meta.toString(), "Dockerfile", ".dockerignore", "-C", rootfs.toString(), "--exclude=./app", ".")
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try (InputStream context = tar.getInputStream()) {
      FunctionContainer.docker().buildImageCmd().withTarInputStream(context).withTags(Set.of("eclipse-temurin:17-jre"))
          .exec(new BuildImageResultCallback()).awaitImageId(10, TimeUnit.MINUTES);
    }
    assertThat(tar.waitFor(1, TimeUnit.MINUTES)).isTrue();
    assertThat(tar.exitValue()).as("tar of the image tree").isZero();
    Files.delete(meta.resolve("Dockerfile"));
    Files.delete(meta.resolve(".dockerignore"));
    Files.delete(meta);
  }
}
