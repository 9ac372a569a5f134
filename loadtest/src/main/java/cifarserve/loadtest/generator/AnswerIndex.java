package cifarserve.loadtest.generator;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;

/**
 * Reads the predicted class ("index") from a classification answer, for accuracy under load.
 *
 * <p>Why a streaming parse and not {@code body.toJsonObject()}: an answer also carries ten
 * probabilities printed to 17 digits, and converting those to doubles was 16 % of the load tester's
 * CPU at concurrency 64 (JFR; it shares the 2 cores with the service it measures). Jackson's
 * streaming parser only converts a number when asked, so skipping them costs a scan.
 */
final class AnswerIndex {
  private static final JsonFactory JSON = new JsonFactory();

  private AnswerIndex() {
  }

  /** The top-level integer field "index" of a JSON object, or null when there is none or it is not JSON. */
  static Integer of(Buffer body) {
    if (body == null || body.length() == 0) {
      return null;
    }
    try (JsonParser parser = JSON.createParser(body.getBytes())) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        JsonToken value = parser.nextToken();
        if ("index".equals(name)) {
          return value == JsonToken.VALUE_NUMBER_INT ? parser.getIntValue() : null;
        }
        parser.skipChildren();
      }
      return null;
    } catch (IOException | RuntimeException notJson) {
      return null;
    }
  }
}
