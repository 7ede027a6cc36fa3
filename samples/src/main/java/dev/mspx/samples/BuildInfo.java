package dev.mspx.samples;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * What the build wrote into {@code build.properties}: the version and the JVM flags of the parent
 * pom's {@code mspx.jvm.flags}, so the command line can tell whether it runs with them.
 */
record BuildInfo(String version, List<String> jvmFlags) {

  static BuildInfo load() {
    Properties p = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
      if (in == null) {
        throw new IllegalStateException(
            "dev/mspx/samples/build.properties is missing from the class path; rebuild samples with"
                + " ./mvnw -pl samples -am package");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read dev/mspx/samples/build.properties", e);
    }
    return new BuildInfo(
        p.getProperty("version", "unknown"), normalise(p.getProperty("jvm.flags", "")));
  }

  /**
   * Flags as the JVM reports its input arguments: {@code --add-modules x} becomes {@code
   * --add-modules=x}, which is how {@link java.lang.management.RuntimeMXBean} lists it.
   */
  static List<String> normalise(String flags) {
    List<String> tokens =
        Arrays.stream(flags.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    List<String> out = new ArrayList<>();
    for (int i = 0; i < tokens.size(); i++) {
      String t = tokens.get(i);
      boolean takesValue = t.startsWith("--") && !t.contains("=");
      if (takesValue && i + 1 < tokens.size() && !tokens.get(i + 1).startsWith("-")) {
        out.add(t + "=" + tokens.get(++i));
      } else {
        out.add(t);
      }
    }
    return List.copyOf(out);
  }
}
