import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Copies a jar without the entries whose names match a regular expression.
 * Used by build-image.sh to drop the native libraries that the image already ships unpacked in
 * /app/native (the jar would otherwise carry them a second time, compressed).
 * Run as a single-file program: {@code java SlimJar.java IN OUT REGEX}; prints kept/dropped counts.
 */
public final class SlimJar {
  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: java SlimJar.java IN.jar OUT.jar REGEX");
      System.exit(2);
    }
    Pattern drop = Pattern.compile(args[2]);
    int kept = 0;
    int dropped = 0;
    try (var in = new ZipInputStream(new BufferedInputStream(Files.newInputStream(Path.of(args[0]))));
         var out = new ZipOutputStream(new BufferedOutputStream(Files.newOutputStream(Path.of(args[1]))))) {
      for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
        if (drop.matcher(e.getName()).find()) {
          dropped++;
          continue;
        }
        ZipEntry copy = new ZipEntry(e.getName());
        copy.setTime(e.getTime());
        out.putNextEntry(copy);
        in.transferTo(out);
        out.closeEntry();
        kept++;
      }
    }
    System.out.println("kept " + kept + " entries, dropped " + dropped);
  }
}
