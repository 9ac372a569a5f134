package cifarserve.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * ec2/cloudformation.yaml as plain maps and lists. The template uses only long-form intrinsics
 * ({@code Ref:}, {@code Fn::Sub:}), so a safe YAML parser reads it; a short-form tag such as {@code !Ref} would
 * make {@link SafeConstructor} fail, which is itself a check.
 */
final class Template {

  final Map<String, Object> root;

  private Template(Map<String, Object> root) {
    this.root = root;
  }

  static Template load() {
    return new Template(yaml(RepoFiles.read("ec2/cloudformation.yaml")));
  }

  /** Parses YAML (or JSON, a subset of it) into maps, lists and scalars. */
  static Map<String, Object> yaml(String text) {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    return map(yaml.load(text), "document");
  }

  Map<String, Object> parameter(String name) {
    return map(map(root.get("Parameters"), "Parameters").get(name), "parameter " + name);
  }

  Map<String, Object> resource(String logicalId) {
    return map(map(root.get("Resources"), "Resources").get(logicalId), "resource " + logicalId);
  }

  Map<String, Object> properties(String logicalId) {
    return map(resource(logicalId).get("Properties"), logicalId + ".Properties");
  }

  /** Logical ids of all resources of a type, in template order. */
  List<String> resourcesOfType(String type) {
    List<String> ids = new ArrayList<>();
    map(root.get("Resources"), "Resources").forEach((id, body) -> {
      if (type.equals(map(body, id).get("Type"))) {
        ids.add(id);
      }
    });
    return ids;
  }

  /** The only resource of a type (fails if there are none or several). */
  String onlyResourceOfType(String type) {
    List<String> ids = resourcesOfType(type);
    assertEquals(1, ids.size(), "resources of type " + type + ": " + ids);
    return ids.get(0);
  }

  static Map<String, Object> ref(String name) {
    Map<String, Object> ref = new LinkedHashMap<>();
    ref.put("Ref", name);
    return ref;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object value, String what) {
    assertNotNull(value, what + " is missing");
    if (!(value instanceof Map)) {
      throw new AssertionError(what + " is not a mapping: " + value);
    }
    return (Map<String, Object>) value;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object value, String what) {
    assertNotNull(value, what + " is missing");
    if (!(value instanceof List)) {
      throw new AssertionError(what + " is not a list: " + value);
    }
    return (List<Object>) value;
  }

  /** A scalar-or-list field (IAM Action, for instance) as a list of strings. */
  static List<String> strings(Object value) {
    if (value instanceof String s) {
      return List.of(s);
    }
    return list(value, "strings").stream().map(String::valueOf).toList();
  }
}
