package dev.mspx.samples;

import dev.mspx.api.Backend;
import dev.mspx.api.BackendSelection;
import dev.mspx.core.BackendModule;
import picocli.CommandLine.Option;

/** {@code --backend cpu|cudnn|auto}: which compute backend runs the command (default: -Dmspx.backend, else auto). */
final class BackendOption {

  @Option(
      names = "--backend",
      description = "cpu, cudnn or auto (default: the mspx.backend system property, else auto: the best available).")
  String backend;

  /**
   * The module a command's model is opened with. Why each backend was chosen or passed over goes to
   * standard error only with {@code --verbose} or an explicit {@code --backend cudnn}: on a machine
   * without a GPU, every command would otherwise open with a paragraph about a missing cuDNN. A
   * backend named explicitly that cannot start fails with all its reasons either way.
   */
  BackendModule module() {
    String name = backend != null ? backend : System.getProperty(BackendSelection.PROPERTY, "auto");
    BackendModule module = BackendModule.select(name);
    if (Main.isVerbose() || "cudnn".equals(name)) {
      module.log().forEach(line -> System.err.println("mspx: " + line));
    }
    return module;
  }

  /** A bare backend from that module, for benchmarks that time plans of their own. */
  Backend create() {
    return module().create();
  }
}
