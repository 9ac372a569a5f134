package cifarserve.cluster;

import cifarserve.model.ArtifactSignature;
import cifarserve.model.ModelVersion;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.spi.merge.MergingEntry;
import com.hazelcast.spi.merge.SplitBrainMergePolicy;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.impl.DataSerializableHolder;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the model map {@code cifar.models} heals after a split brain (configured in conf/cluster-*.xml).
 * Each side may have announced a model while apart; Hazelcast's default (PutIfAbsent/LatestUpdate)
 * would keep whichever {@code current} the larger side or the later write had, even an older or forged
 * one. Here {@code current} keeps the newest version whose signature verifies with this node's cluster
 * secret; a side whose entry does not verify never wins over one that does. Every other key (an
 * artifact's bytes, {@code artifact:<v>} / {@code onnx:<v>}) is content-addressed by the signed
 * SHA-256s, so the existing entry stays and a missing one is taken (PutIfAbsent).
 *
 * <p>Hazelcast creates the policy from its class name, on each member: the cluster secret comes from
 * {@link #trust}, which the node calls before it joins (ServeCommand). Without it no {@code current}
 * verifies and the existing one is kept.
 */
public final class ModelMapMergePolicy implements SplitBrainMergePolicy<Object, MergingEntry<Object, Object>, Object> {
  private static final Logger LOG = LoggerFactory.getLogger(ModelMapMergePolicy.class);
  /** The key of the current model's metadata (ModelCatalog.CURRENT). */
  static final String CURRENT = "current";
  private static volatile ArtifactSignature trusted;

  /** The signature check merges use on this member (Hazelcast instantiates the policy itself). */
  public static void trust(ArtifactSignature signature) {
    trusted = signature;
  }

  @Override
  public Object merge(MergingEntry<Object, Object> merging, MergingEntry<Object, Object> existing) {
    if (existing == null) {
      return merging.getRawValue();
    }
    if (!CURRENT.equals(merging.getKey())) {
      return existing.getRawValue();
    }
    Optional<ModelVersion> incoming = validVersion(merging.getValue());
    Optional<ModelVersion> kept = validVersion(existing.getValue());
    boolean takeIncoming = incoming.isPresent() && (kept.isEmpty() || incoming.get().isNewerThan(kept.get()));
    LOG.info("Split-brain merge of the current model: {} (incoming {}, existing {})",
        takeIncoming ? "incoming wins" : "existing stays", incoming.map(String::valueOf).orElse("invalid"),
        kept.map(String::valueOf).orElse("invalid"));
    return takeIncoming ? merging.getRawValue() : existing.getRawValue();
  }

  /** The version of a {@code current} value that verifies, else empty. */
  static Optional<ModelVersion> validVersion(Object value) {
    // Vert.x keeps a JsonObject in Hazelcast wrapped in a DataSerializableHolder.
    Object unwrapped = value instanceof DataSerializableHolder holder ? holder.clusterSerializable() : value;
    ArtifactSignature signature = trusted;
    if (!(unwrapped instanceof JsonObject metadata) || signature == null || !signature.verify(metadata).accepted()) {
      return Optional.empty();
    }
    return Optional.of(ModelVersion.of(metadata));
  }

  // Stateless: nothing to send when Hazelcast ships the policy to another member.
  @Override
  public void writeData(ObjectDataOutput out) {
  }

  @Override
  public void readData(ObjectDataInput in) {
  }
}
