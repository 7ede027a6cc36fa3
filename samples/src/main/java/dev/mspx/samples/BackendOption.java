package dev.mspx.samples;

import dev.mspx.api.Backend;
import dev.mspx.api.BackendSelection;
import picocli.CommandLine.Option;

/** {@code --backend cpu|cudnn|auto}: which compute backend runs the command (default: -Dmspx.backend, else auto). */
final class BackendOption {

  @Option(
      names = "--backend",
      description = "cpu, cudnn or auto (default: the mspx.backend system property, else auto: the best available).")
  String backend;

  Backend create() {
    String name = backend != null ? backend : System.getProperty(BackendSelection.PROPERTY, "auto");
    BackendSelection.Choice choice = BackendSelection.choose(name);
    choice.log().forEach(line -> System.err.println("mspx: " + line));
    return choice.provider().create();
  }
}
