package cifarserve.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.model.ArtifactSignature;
import cifarserve.model.CifarCnn;
import com.hazelcast.spi.merge.MergingEntry;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.impl.ConversionUtils;
import io.vertx.spi.cluster.hazelcast.impl.DataSerializableHolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Tag;

/** The split-brain merge of the model map: which side's entry survives. */
@Tag("unit")
class ModelMapMergePolicyTest {
  private static final String OLD = "cnn-20261130T105851Z-9e31";
  private static final String NEW = "cnn-20261201T120421Z-d556";

  @TempDir
  Path tmp;
  private ArtifactSignature signer;
  private final ModelMapMergePolicy policy = new ModelMapMergePolicy();

  @BeforeEach
  void trustTheClusterSecret() throws Exception {
    signer = signature("the-cluster-secret-of-at-least-32-characters");
    ModelMapMergePolicy.trust(signer);
  }

  @AfterEach
  void forget() {
    ModelMapMergePolicy.trust(null);
  }

  private ArtifactSignature signature(String secret) throws Exception {
    Path file = Files.writeString(tmp.resolve("secret-" + secret.hashCode()), secret);
    return ArtifactSignature.from(new JsonObject().put("cluster", new JsonObject().put("secretFile", file.toString())));
  }

  private static JsonObject signed(ArtifactSignature by, String version) {
    return by.sign(new JsonObject().put("version", version).put("architectureId", CifarCnn.ARCHITECTURE_ID), List.of(
        new ArtifactSignature.SignedFile(version + ".zip", ArtifactSignature.sha256(new byte[] {1})),
        new ArtifactSignature.SignedFile(version + ".onnx", ArtifactSignature.sha256(new byte[] {2}))));
  }

  private Object merge(String key, Object incoming, Object existing) {
    return policy.merge(new Entry(key, incoming), existing == null ? null : new Entry(key, existing));
  }

  @Test
  void theNewerValidVersionWinsFromEitherSide() {
    JsonObject older = signed(signer, OLD);
    JsonObject newer = signed(signer, NEW);
    assertThat(merge("current", newer, older)).isSameAs(newer);
    assertThat(merge("current", older, newer)).isSameAs(newer);
    assertThat(merge("current", older, null)).isSameAs(older);
  }

  @Test
  void anEntryThatDoesNotVerifyNeverWinsHoweverNewItClaimsToBe() throws Exception {
    JsonObject real = signed(signer, OLD);
    JsonObject forged = signed(signature("an-attackers-secret-of-at-least-32-chars"), "cnn-29991231T235959Z-ffff");
    JsonObject zzz = new JsonObject().put("version", "zzz");
    JsonObject noArchitecture = signed(signer, NEW).copy();
    noArchitecture.remove("architectureId");
    for (Object bad : List.of(forged, zzz, noArchitecture, "not metadata")) {
      assertThat(merge("current", bad, real)).as("incoming %s", bad).isSameAs(real);
      assertThat(merge("current", real, bad)).as("existing %s", bad).isSameAs(real);
    }
  }

  @Test
  void decidesOnValuesAsVertxStoresThemInHazelcast() {
    // The cluster map holds a JsonObject wrapped in vertx-hazelcast's DataSerializableHolder.
    ConversionUtils vertxHazelcast = new ConversionUtils();
    Object older = vertxHazelcast.convertParam(signed(signer, OLD));
    Object newer = vertxHazelcast.convertParam(signed(signer, NEW));
    assertThat(older).isInstanceOf(DataSerializableHolder.class);
    assertThat(merge("current", newer, older)).isSameAs(newer);
    assertThat(merge("current", older, newer)).isSameAs(newer);
  }

  @Test
  void withoutTheSecretTheExistingEntryStays() {
    ModelMapMergePolicy.trust(null);
    JsonObject older = signed(signer, OLD);
    JsonObject newer = signed(signer, NEW);
    assertThat(merge("current", newer, older)).isSameAs(older);
  }

  @Test
  void artifactBytesArePutIfAbsent() {
    Buffer mine = Buffer.buffer(new byte[] {1});
    Buffer theirs = Buffer.buffer(new byte[] {2});
    assertThat(merge("onnx:" + NEW, theirs, mine)).isSameAs(mine);
    assertThat(merge("artifact:" + NEW, theirs, null)).isSameAs(theirs);
  }

  /** A map entry as Hazelcast hands it to the policy (value already deserialized; raw = the same object here). */
  private record Entry(Object key, Object value) implements MergingEntry<Object, Object> {
    @Override
    public Object getKey() {
      return key;
    }

    @Override
    public Object getRawKey() {
      return key;
    }

    @Override
    public Object getValue() {
      return value;
    }

    @Override
    public Object getRawValue() {
      return value;
    }
  }
}
