package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command and sub-command, however deep, answers {@code -h} and {@code --help} with its usage and exit 0. */
class HelpTest {

  private static void collect(CommandLine line, List<String> path, List<List<String>> out) {
    out.add(path);
    line.getSubcommands().forEach((name, sub) -> {
      if (!name.equals("help")) {
        List<String> deeper = new ArrayList<>(path);
        deeper.add(name);
        collect(sub, deeper, out);
      }
    });
  }

  @Test
  void everyCommandHasHelp() {
    List<List<String>> commands = new ArrayList<>();
    collect(Main.commandLine(), List.of(), commands);
    assertTrue(commands.size() >= 8, "the tree: " + commands);
    for (List<String> command : commands) {
      for (String flag : List.of("-h", "--help")) {
        List<String> args = new ArrayList<>(command);
        args.add(flag);
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args.toArray(String[]::new));
        String usage = "Usage: " + String.join(" ", List.of("mspx", String.join(" ", command))).strip();
        assertEquals(0, code, args + ": " + out + err);
        assertTrue(out.toString().startsWith(usage), args + " printed: " + out + err);
      }
    }
  }
}
