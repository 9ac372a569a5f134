package cifarserve.model;

import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A model version id, the one place that issues, parses and orders them. The only accepted form is
 * the one {@link #next} issues: {@code cnn-YYYYMMDDTHHMMSSZ-xxxx} (UTC second, 4 lower-case hex
 * digits), 25 characters. Anything else is refused, so an id from a request, a cluster map key, an
 * event-bus header or a file name can never carry a path separator, {@code ..}, or a string that sorts
 * after every real version ("zzz"). Ids are fixed-width, so their string order is their time order.
 */
public final class ModelVersion implements Comparable<ModelVersion> {
  /** The length of every valid id; longer input is refused before any pattern matching. */
  public static final int LENGTH = 25;
  private static final Pattern FORMAT = Pattern.compile("cnn-\\d{8}T\\d{6}Z-[0-9a-f]{4}");
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String id;

  private ModelVersion(String id) {
    this.id = id;
  }

  /** Thrown for any id that is not exactly the issued form. */
  public static final class InvalidModelVersion extends IllegalArgumentException {
    InvalidModelVersion(String message) {
      super(message);
    }
  }

  /**
   * A new id that orders after {@code floor} (the cluster's current version, or this node's newest),
   * whatever this node's clock says: the clock's second when it is later than the floor's, else the
   * floor's second + 1 s. A node whose clock is behind still issues a version that supersedes.
   */
  public static ModelVersion nextAfter(Instant now, ModelVersion floor) {
    if (floor == null) {
      return next(now);
    }
    Instant floorSecond = floor.issuedAt();
    Instant second = now.truncatedTo(ChronoUnit.SECONDS);
    return next(second.isAfter(floorSecond) ? second : floorSecond.plusSeconds(1));
  }

  /** The UTC second this id was issued for. */
  public Instant issuedAt() {
    return Instant.from(TIME.parse(id.substring(4, 20)));
  }

  /** A new id for a model finished at {@code now}; the random suffix separates two nodes in one second. */
  public static ModelVersion next(Instant now) {
    byte[] suffix = new byte[2];
    RANDOM.nextBytes(suffix);
    return new ModelVersion("cnn-" + TIME.format(now) + "-" + HexFormat.of().formatHex(suffix));
  }

  public static ModelVersion parse(String id) {
    if (id == null) {
      throw new InvalidModelVersion("model version is missing");
    }
    // Echo only a bounded prefix: the id may be hostile and huge.
    if (id.length() != LENGTH || !FORMAT.matcher(id).matches()) {
      throw new InvalidModelVersion("not a model version: '" + printable(id) + "'");
    }
    ModelVersion version = new ModelVersion(id);
    try {
      version.issuedAt(); // a real UTC second: no month 13, no 25:61:61
    } catch (DateTimeException e) {
      throw new InvalidModelVersion("not a model version (no such time): '" + id + "'");
    }
    return version;
  }

  /** The version of an artifact's metadata ({@code "version"}), validated. */
  public static ModelVersion of(JsonObject metadata) {
    Object value = metadata == null ? null : metadata.getValue("version");
    if (value != null && !(value instanceof String)) {
      throw new InvalidModelVersion("model version must be a string");
    }
    return parse((String) value);
  }

  /** True when {@code id} is a valid version id. */
  public static boolean isValid(String id) {
    try {
      parse(id);
      return true;
    } catch (InvalidModelVersion e) {
      return false;
    }
  }

  /** The file name of this version's artifact part, e.g. {@code fileName(".zip")}. */
  public String fileName(String extension) {
    return id + extension;
  }

  /** A key in the cluster's model map, e.g. {@code mapKey("artifact")} is {@code artifact:<id>}. */
  public String mapKey(String prefix) {
    return prefix + ":" + id;
  }

  public boolean isNewerThan(ModelVersion other) {
    return compareTo(other) > 0;
  }

  @Override
  public int compareTo(ModelVersion other) {
    return id.compareTo(other.id);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof ModelVersion version && version.id.equals(id);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return id;
  }

  private static String printable(String id) {
    String head = id.length() > 40 ? id.substring(0, 40) + "..." : id;
    return head.replaceAll("[^\\x20-\\x7e]", "?");
  }
}
