package cifarserve.data;

import java.io.IOException;

/** A CIFAR-10 file that is missing, truncated, corrupt or not the file its checksum pins. */
public class CifarFormatException extends IOException {
  public CifarFormatException(String message) {
    super(message);
  }
}
