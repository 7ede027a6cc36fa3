package dev.mspx.samples;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * {@code --spark MASTER}: run {@code train}, {@code eval} or {@code sample} on Apache Spark. The command
 * line goes as it is to {@code dev.mspx.spark.SparkMain} (the distributed module), which takes the same
 * options and its own ({@code --replicas}, {@code --collective}, ...). Spark is not a dependency of this
 * module: {@code ./mspx} puts the distributed module on the class path when {@code --spark} is given
 * (and runs SparkMain directly, so its own options parse too).
 */
final class SparkOption {

  static final String MAIN = "dev.mspx.spark.SparkMain";

  @Option(names = "--spark", paramLabel = "MASTER",
      description = "Run on Apache Spark: local[N] on this machine, or a cluster's master (the distributed module; its options: ./mspx train --spark local --help).")
  String master;

  /** SparkMain's exit code for this command line when {@code --spark} was given; null to run here. */
  Integer delegate(CommandSpec spec) {
    if (master == null) {
      return null;
    }
    List<String> args = spec.root().commandLine().getParseResult().originalArgs();
    PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
    try {
      return (Integer) Class.forName(MAIN).getMethod("run", String[].class, PrintWriter.class, PrintWriter.class)
          .invoke(null, args.toArray(String[]::new), out, err);
    } catch (ClassNotFoundException e) {
      throw new IllegalArgumentException("--spark needs the distributed module and Apache Spark on the class path: run through ./mspx (which adds"
          + " them), or spark-submit --class " + MAIN + " with the distributed module's jar (distributed/README.md)");
    } catch (InvocationTargetException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(MAIN + " is not the entry point this version expects: " + e, e);
    }
  }
}
