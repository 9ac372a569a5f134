package cifarserve.ec2;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A systemd unit file: section -> key -> values in order (keys may repeat), continuation lines joined. */
final class SystemdUnit {

  private final Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();

  static SystemdUnit parse(String text) {
    SystemdUnit unit = new SystemdUnit();
    String section = null;
    StringBuilder pending = new StringBuilder();
    for (String raw : text.split("\n", -1)) {
      String line = raw.strip();
      if (pending.length() == 0 && (line.isEmpty() || line.startsWith("#") || line.startsWith(";"))) {
        continue;
      }
      if (line.endsWith("\\")) {
        pending.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      pending.append(line);
      String full = pending.toString().strip();
      pending.setLength(0);
      if (full.startsWith("[") && full.endsWith("]")) {
        section = full.substring(1, full.length() - 1);
        unit.sections.putIfAbsent(section, new LinkedHashMap<>());
        continue;
      }
      int eq = full.indexOf('=');
      if (section == null || eq < 0) {
        throw new AssertionError("not a unit-file line: " + full);
      }
      unit.sections.get(section)
          .computeIfAbsent(full.substring(0, eq).strip(), k -> new ArrayList<>())
          .add(full.substring(eq + 1).strip());
    }
    return unit;
  }

  List<String> values(String section, String key) {
    return sections.getOrDefault(section, Map.of()).getOrDefault(key, List.of());
  }

  /** The last value of a key (systemd's rule for single-valued settings), or null. */
  String value(String section, String key) {
    List<String> values = values(section, key);
    return values.isEmpty() ? null : values.get(values.size() - 1);
  }

  /** Environment= assignments of [Service], later ones winning. */
  Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    for (String assignment : values("Service", "Environment")) {
      for (String part : assignment.split("\\s+")) {
        int eq = part.indexOf('=');
        env.put(part.substring(0, eq), part.substring(eq + 1));
      }
    }
    return env;
  }

  /** ExecStart= split on whitespace (the unit uses no quoting). */
  List<String> execStart() {
    return List.of(value("Service", "ExecStart").split("\\s+"));
  }
}
