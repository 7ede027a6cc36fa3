package dev.mspx.samples;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The {@code mspx} command line. */
@Command(
    name = "mspx",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "The parallel multiscale PixelCNN (Reed et al. 2017) on the JVM.",
    subcommands = {
      InfoCommand.class,
      DescribeCommand.class,
      TrainCommand.class,
      EvalCommand.class,
      SampleCommand.class,
      BenchCommand.class,
      ExportCommand.class,
      CompressCommand.class,
      DecompressCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @Spec CommandSpec spec;

  @Option(
      names = {"-v", "--verbose"},
      description = "Log at INFO level (default: warnings and errors only).")
  void verbose(boolean on) {
    logAt(on ? Level.INFO : Level.WARNING);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "mspx needs a command; try: mspx info (or mspx --help)");
  }

  public static void main(String[] args) {
    quietLogging();
    System.exit(commandLine().execute(args));
  }

  /**
   * The command line, with errors a user can act on (bad input, a missing dataset or library, a
   * diverged run) printed as one line and exit code 1, and anything else with its stack trace.
   */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    addHelpEverywhere(cli);
    cli.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          if (isUserError(e)) {
            line.getErr().println("mspx: " + e.getMessage());
            line.getErr().flush();
            return 1;
          }
          throw e;
        });
    return cli;
  }

  /**
   * {@code -h}/{@code --help} on every sub-command, however deep, including ones added later: a help
   * request prints the usage and exits 0 before any required option is checked.
   */
  private static void addHelpEverywhere(CommandLine line) {
    CommandSpec spec = line.getCommandSpec();
    if (spec.optionsMap().get("--help") == null) {
      spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help message and exit.").build());
    }
    line.getSubcommands().values().forEach(Main::addHelpEverywhere);
  }

  private static boolean isUserError(Exception e) {
    return e instanceof IllegalArgumentException
        || e instanceof dev.mspx.api.BackendUnavailableException
        || e instanceof dev.mspx.core.data.DatasetException
        || e instanceof dev.mspx.core.CheckpointException
        || e instanceof dev.mspx.core.TrainingDivergedException
        || e instanceof java.io.IOException;
  }

  /**
   * Warnings and errors only, unless the user configured java.util.logging: Arrow and the backends
   * log at INFO through SLF4J (bound to JUL by slf4j-jdk14), which is noise on a command line.
   */
  static void quietLogging() {
    if (System.getProperty("java.util.logging.config.file") == null
        && System.getProperty("java.util.logging.config.class") == null) {
      logAt(Level.WARNING);
    }
  }

  private static void logAt(Level level) {
    Logger root = Logger.getLogger("");
    root.setLevel(level);
    for (Handler handler : root.getHandlers()) {
      handler.setLevel(level);
    }
  }

  /** The version the build wrote into build.properties. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"mspx " + BuildInfo.load().version()};
    }
  }
}
