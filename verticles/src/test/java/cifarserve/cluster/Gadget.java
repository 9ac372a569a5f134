package cifarserve.cluster;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a Java-deserialization attack looks like from the receiving side: a class on the victim's
 * classpath whose {@code readObject} acts (here: writes a marker file). If a node ever deserialized
 * it from the cluster map, the file would appear.
 */
final class Gadget implements Serializable {
  private static final long serialVersionUID = 1L;
  private final String marker;

  Gadget(Path marker) {
    this.marker = marker.toString();
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    Files.writeString(Path.of(marker), "deserialized in pid " + ProcessHandle.current().pid());
  }
}
