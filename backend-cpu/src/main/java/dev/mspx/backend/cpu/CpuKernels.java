package dev.mspx.backend.cpu;

import dev.mspx.api.Backend;
import java.lang.System.Logger.Level;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The two kernel sets of the CPU backend and the start-up choice between them, in the manner of
 * Lucene's {@code VectorizationProvider}: the Vector API kernels ({@link CpuVectorBackend}) when
 * {@code jdk.incubator.vector} is usable, else the scalar reference ({@link CpuReferenceBackend}), with
 * one log line that says which and why, and how to get the fast kernels when they were passed over.
 *
 * <p>{@value #PROPERTY}{@code =reference|vector} forces a set; {@code vector} where the Vector API is
 * unusable is an error that gives the reason, and an unknown value is an error listing the options.
 */
public enum CpuKernels {
  /** The scalar oracle: plain loops, double accumulation. */
  REFERENCE,
  /** Vector API kernels on a thread pool. */
  VECTOR;

  /** System property forcing a kernel set. */
  public static final String PROPERTY = "mspx.cpu.kernels";

  private static final System.Logger LOG = System.getLogger(CpuKernels.class.getName());

  /** The lower-case name used by {@value #PROPERTY}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** A new backend with these kernels. */
  public Backend create() {
    return switch (this) {
      case REFERENCE -> new CpuReferenceBackend();
      case VECTOR -> {
        String why = VectorSupport.unusableReason();
        if (why != null) {
          throw new IllegalStateException("the vector CPU kernels cannot run here: " + why);
        }
        yield new CpuVectorBackend();
      }
    };
  }

  /**
   * A choice of kernels.
   *
   * @param kernels the kernels chosen, or null when the request cannot be met
   * @param reason why: the property's value, or what was found about the Vector API
   */
  public record Choice(CpuKernels kernels, String reason) {

    /** One line for logs and {@code mspx info}. */
    public String describe() {
      return kernels == null
          ? "kernels: none, " + reason
          : "kernels: " + (kernels == VECTOR ? "vector (" + VectorSupport.describe() + ")" : "scalar reference")
              + ", " + reason;
    }
  }

  /** The choice for this JVM, from {@value #PROPERTY} and the Vector API probe; logged once. */
  public static Choice choose() {
    Choice c = choose(System.getProperty(PROPERTY));
    logOnce(c);
    return c;
  }

  /**
   * The choice for a requested value of {@value #PROPERTY} (null or blank: automatic).
   *
   * @throws IllegalArgumentException for a value that names no kernel set
   */
  public static Choice choose(String requested) {
    String why = VectorSupport.unusableReason();
    if (requested == null || requested.isBlank()) {
      return why == null
          ? new Choice(VECTOR, "the Vector API is usable")
          : new Choice(REFERENCE, "the vector kernels are off because " + why);
    }
    CpuKernels forced = parse(requested);
    if (forced == REFERENCE) {
      return new Choice(REFERENCE, "forced by -D" + PROPERTY + "=" + requested.strip());
    }
    return why == null
        ? new Choice(VECTOR, "forced by -D" + PROPERTY + "=" + requested.strip())
        : new Choice(null, "-D" + PROPERTY + "=" + requested.strip() + " asks for the vector kernels but " + why);
  }

  /** The kernel set named {@code value}, in any case. */
  public static CpuKernels parse(String value) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    for (CpuKernels k : values()) {
      if (k.id().equals(v)) {
        return k;
      }
    }
    throw new IllegalArgumentException(
        "unknown " + PROPERTY + " '" + value + "', known options "
            + Arrays.stream(values()).map(CpuKernels::id).toList());
  }

  private static volatile Choice logged;

  private static void logOnce(Choice c) {
    if (c.equals(logged)) {
      return;
    }
    logged = c;
    if (c.kernels() == VECTOR) {
      LOG.log(Level.INFO, "cpu backend: " + c.describe());
    } else {
      LOG.log(Level.WARNING, "cpu backend: " + c.describe());
    }
  }

  /**
   * Probes the Vector API without touching its classes unless the module is there (loading them
   * without it would fail with a linkage error).
   */
  static final class VectorSupport {

    private VectorSupport() {}

    private static final String MODULE = "jdk.incubator.vector";

    /** Why the vector kernels cannot run, or null when they can. */
    static String unusableReason() {
      if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
        return MODULE + " is not loaded: start the JVM with --add-modules " + MODULE
            + " (./mspx and the build's test runs do)";
      }
      int lanes = Lanes.floatLanes();
      if (lanes < 2) {
        return "the preferred float vector has " + lanes + " lane(s): this CPU or JVM has no usable SIMD";
      }
      String jit = interpretedOrClientOnly();
      if (jit != null) {
        return jit + ": the Vector API is only fast once C2 compiles it; drop that flag";
      }
      return null;
    }

    /** The species in use, e.g. {@code 512-bit, 16 float lanes}. */
    static String describe() {
      return Lanes.describe();
    }

    /** Lucene's check: without C2 the Vector API runs as slow objects, far behind plain loops. */
    private static String interpretedOrClientOnly() {
      String info = System.getProperty("java.vm.info", "");
      if (info.contains("interpreted mode")) {
        return "the JVM runs interpreted (-Xint)";
      }
      try {
        List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (String a : args) {
          if (a.startsWith("-XX:TieredStopAtLevel=") && !a.endsWith("=4")) {
            return "the JVM stops at C1 (" + a + ")";
          }
        }
      } catch (RuntimeException | LinkageError e) {
        // java.management absent: nothing to learn there.
      }
      return null;
    }

    /** Touches jdk.incubator.vector; only loaded once the module is known to be present. */
    private static final class Lanes {
      static int floatLanes() {
        return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
      }

      static String describe() {
        var s = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        return s.vectorBitSize() + "-bit, " + s.length() + " float lanes, "
            + Runtime.getRuntime().availableProcessors() + " threads";
      }
    }
  }
}
