package dev.mspx.samples;

import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.samples.configs.ReferenceConfigs;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code mspx describe --config NAME}: the compiled plan of a reference configuration, readably. */
@Command(
    name = "describe",
    description = "Print the execution plan of a reference configuration: networks, layers, shapes, parameter"
        + " count, arena bytes.")
final class DescribeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--config", required = true, description = "One of: ${COMPLETION-CANDIDATES}.",
      completionCandidates = ConfigNames.class)
  String config;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    ExecutionPlan plan = ReferenceConfigs.plan(config);
    out.print(plan.describe());
    out.flush();
    return 0;
  }

  /** The names of the reference configurations, for picocli's help and completion. */
  static final class ConfigNames implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return ReferenceConfigs.names().iterator();
    }
  }
}
