package dev.mspx.samples;

import dev.mspx.api.Availability;
import dev.mspx.api.BackendProvider;
import dev.mspx.api.BackendSelection;
import dev.mspx.core.ModelCatalog;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.Callable;
import jdk.incubator.vector.FloatVector;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferLedger;
import org.apache.arrow.memory.ReferenceManager;
import org.apache.arrow.memory.RootAllocator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code mspx info}: the JDK, the machine, the SIMD width, the Arrow allocator, every backend with
 * why each can or cannot run here, and the compiled models on the class path (in the spirit of DJL's
 * {@code Engine.debugEnvironment()}).
 */
@Command(
    name = "info",
    description =
        "Print the JDK, SIMD width, JVM flags and every backend with why it can or cannot run.")
final class InfoCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    BuildInfo build = BuildInfo.load();
    out.println("mspx " + build.version());

    out.println();
    out.println("Java");
    row(out, "version", System.getProperty("java.version") + " (" + Runtime.version() + ")");
    row(out, "vendor", System.getProperty("java.vendor"));
    row(out, "java.home", System.getProperty("java.home"));
    row(
        out,
        "VM",
        System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
    List<String> flags = ManagementFactory.getRuntimeMXBean().getInputArguments();
    row(out, "JVM flags", flags.isEmpty() ? "(none)" : String.join(" ", flags));
    List<String> missing = build.jvmFlags().stream().filter(f -> !flags.contains(f)).toList();
    if (!missing.isEmpty()) {
      row(
          out,
          "missing",
          String.join(" ", missing)
              + " (expected from mspx.jvm.flags in pom.xml; run through ./mspx, which adds them)");
    }

    out.println();
    out.println("Machine");
    row(
        out,
        "OS",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " ("
            + System.getProperty("os.arch")
            + ")");
    row(out, "cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
    row(out, "max heap", Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB");

    out.println();
    out.println("SIMD (Vector API, jdk.incubator.vector)");
    row(out, "preferred", simdWidth());

    out.println();
    out.println("Arrow");
    row(out, "allocator", arrowAllocator());

    out.println();
    out.println(
        "Backends (BackendSelection.survey(): every "
            + BackendProvider.class.getName()
            + " on the class path, highest priority first)");
    printBackends(out);
    out.flush();
    return 0;
  }

  private static void row(PrintWriter out, String key, String value) {
    out.printf("  %-10s %s%n", key, value);
  }

  /** The preferred vector shape, or why the Vector API is not there. */
  private static String simdWidth() {
    try {
      return "FloatVector "
          + FloatVector.SPECIES_PREFERRED.vectorBitSize()
          + "-bit vector, "
          + FloatVector.SPECIES_PREFERRED.length()
          + " float lanes";
    } catch (NoClassDefFoundError e) {
      return "vector API not available ("
          + e.getMessage()
          + "): run with --add-modules jdk.incubator.vector, as ./mspx does";
    }
  }

  /** The allocation manager behind a fresh Arrow root allocator: the one tensors would get. */
  private static String arrowAllocator() {
    String configured = System.getProperty("arrow.allocation.manager.type");
    String setting = "arrow.allocation.manager.type=" + (configured == null ? "unset" : configured);
    try (RootAllocator root = new RootAllocator();
        ArrowBuf buf = root.buffer(1)) {
      ReferenceManager ref = buf.getReferenceManager();
      String manager =
          ref instanceof BufferLedger ledger
              ? ledger.getAllocationManager().getClass().getName()
              : ref.getClass().getName();
      return manager + " (" + setting + ")";
    } catch (RuntimeException | LinkageError e) {
      return "cannot allocate ("
          + e
          + "; "
          + setting
          + "): run through ./mspx for the JVM flags"
          + " Arrow needs (--add-opens=java.base/java.nio=ALL-UNNAMED)";
    }
  }

  /** What {@link BackendSelection#survey()} sees: the very probes {@code --backend auto} decides from. */
  private static void printBackends(PrintWriter out) {
    List<BackendSelection.Probe> survey = BackendSelection.survey();
    for (BackendSelection.Probe probe : survey) {
      BackendProvider p = probe.provider();
      Availability a = probe.availability();
      out.printf("  %-6s priority %-4d %s%n", p.name(), p.priority(), a.available() ? "available" : "unavailable");
      for (String reason : a.reasons()) {
        out.println("      reason: " + reason);
      }
      for (String detail : a.details()) {
        out.println("      detail: " + detail);
      }
    }
    if (survey.isEmpty()) {
      out.println("  none found: no backend jar on the class path (samples/target/lib)");
    }
    String chosen = survey.stream().filter(p -> p.availability().available()).map(p -> p.provider().name()).findFirst().orElse("none");
    out.println("  --backend auto chooses: " + chosen);
    out.println();
    ModelCatalog catalog = ModelCatalog.load();
    out.println("Models");
    row(out, "compiled", catalog.names().size() + " on the class path: " + String.join(", ", catalog.names()) + " (mspx describe --list)");
    for (String problem : catalog.problems()) {
      row(out, "problem", problem);
    }
  }
}
