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
      DemoCommand.class,
      CheckpointCommand.class,
      UpscaleCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @Spec CommandSpec spec;

  /** Exit code of a command that did its work. */
  static final int OK = 0;
  /** Exit code of a command that could not do its work: a file, the data, the machine (one line on stderr says why). */
  static final int FAILURE = 1;
  /** Exit code of a command line that is wrong: an unknown option, a missing or invalid value (one line says which). */
  static final int USAGE = 2;

  /** Whether -v/--verbose was given (on any command): backend choices and INFO logs are then printed. */
  private static volatile boolean verbose;

  @Option(
      names = {"-v", "--verbose"},
      scope = CommandLine.ScopeType.INHERIT,
      description = "Say more: why each backend was chosen or passed over, and INFO logs (default: warnings and errors only).")
  void verbose(boolean on) {
    verbose = on;
    logAt(on ? Level.INFO : Level.WARNING);
  }

  static boolean isVerbose() {
    return verbose;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "mspx needs a command; try: mspx info (or mspx --help)");
  }

  public static void main(String[] args) {
    // Pictures and plots are drawn off-screen; no display is needed or looked for.
    System.setProperty("java.awt.headless", "true");
    useLauncherStderr();
    quietLogging();
    System.exit(commandLine().execute(args));
  }

  /**
   * The launcher ({@code ./mspx}) runs the JVM with its standard error through a filter that drops
   * the one line "WARNING: Using incubator modules: jdk.incubator.vector" (the JVM prints it before
   * {@code main} and has no option to silence it), and passes the real standard error as
   * {@code -Dmspx.stderr=/dev/fd/N}. Everything Java prints from here on goes straight there, so the
   * last line of a failed command is on the terminal (or in the file) by the time the process has
   * exited; only what the JVM itself writes later (crash reports, VM warnings) takes the filter.
   */
  private static void useLauncherStderr() {
    String target = System.getProperty("mspx.stderr");
    if (target == null || target.isBlank()) {
      return;
    }
    try {
      // Append: when stderr is a file the launcher's shell opened, write at its end, not over it.
      java.io.PrintStream err = new java.io.PrintStream(new java.io.FileOutputStream(target, true), true,
          java.nio.charset.Charset.defaultCharset());
      System.setErr(err);
    } catch (java.io.IOException | SecurityException e) {
      // Keep the filtered stderr: every line still arrives, only the incubator warning is dropped.
    }
  }

  /**
   * The command line, with errors a user can act on (bad input, a missing dataset or library, a
   * diverged run) printed as one line and exit code 1, and anything else with its stack trace.
   */
  static CommandLine commandLine() {
    verbose = false;
    CommandLine cli = new CommandLine(new Main());
    addHelpEverywhere(cli);
    cli.setParameterExceptionHandler(
        (e, args) -> {
          // One line naming the input, and where the options are listed; not the whole usage text.
          CommandLine line = e.getCommandLine();
          String command = line.getCommandSpec().qualifiedName(" ");
          line.getErr().println("mspx: " + e.getMessage() + " (" + command + " --help lists the options)");
          line.getErr().flush();
          return USAGE;
        });
    cli.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          if (e instanceof UsageException) {
            line.getErr().println("mspx: " + e.getMessage() + " (" + line.getCommandSpec().qualifiedName(" ") + " --help lists the options)");
            line.getErr().flush();
            return USAGE;
          }
          if (isUserError(e)) {
            line.getErr().println("mspx: " + e.getMessage());
            line.getErr().flush();
            return FAILURE;
          }
          throw e;
        });
    cli.setExitCodeExceptionMapper(t -> FAILURE);
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
        || e instanceof java.io.IOException
        || e instanceof java.io.UncheckedIOException;
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
