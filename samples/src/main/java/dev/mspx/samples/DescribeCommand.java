package dev.mspx.samples;

import dev.mspx.api.plan.PlanProvider;
import dev.mspx.core.ModelCatalog;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mspx describe --config NAME}: the compiled plan of a model, readably; {@code --list}: every
 * compiled model on the class path.
 */
@Command(
    name = "describe",
    description = "Print the execution plan of a compiled model (networks, layers, shapes, parameter count, arena bytes),"
        + " or list every compiled model on the class path.")
final class DescribeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  static final class What {
    @Option(names = "--config", description = "A compiled model by name: ${COMPLETION-CANDIDATES}.",
        completionCandidates = ModelNames.class)
    String config;

    @Option(names = "--list", description = "List every compiled model on the class path: name, kind, shape, parameters, declaration.")
    boolean list;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  What what;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    ModelCatalog catalog = ModelCatalog.load();
    if (what.list) {
      out.printf(Locale.ROOT, "%-22s %-10s %-14s %14s  %s%n", "model", "kind", "shape (CxHxW)", "parameters", "declared by");
      for (PlanProvider p : catalog.models()) {
        var s = p.spec();
        out.printf(Locale.ROOT, "%-22s %-10s %-14s %,14d  %s%n", p.name(), s.kind().name().toLowerCase(Locale.ROOT),
            s.channels() + "x" + s.size() + "x" + s.size(), p.parameterCount(), p.declaration());
      }
      for (String problem : catalog.problems()) {
        out.println("problem: " + problem);
      }
    } else {
      out.print(catalog.plan(what.config).describe());
    }
    out.flush();
    return 0;
  }

  /** The names of the compiled models, for picocli's help and completion. */
  static final class ModelNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return ModelCatalog.load().names().iterator();
    }
  }
}
