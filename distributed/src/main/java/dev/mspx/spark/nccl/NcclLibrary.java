package dev.mspx.spark.nccl;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds and loads NCCL 2 ({@code libnccl.so.2}), in one documented order, never downloading anything
 * (like the cuDNN backend's discovery):
 *
 * <ol>
 *   <li>{@code -Dmspx.nccl.path}: a folder holding libnccl.so.2, or the file itself;
 *   <li>{@code MSPX_NCCL_PATH}, the same way, only when the property is unset;
 *   <li>the system loader ({@code dlopen("libnccl.so.2")}: LD_LIBRARY_PATH, the ld.so cache);
 *   <li>NVIDIA's wheels in Python site-packages ({@code nvidia/nccl/lib}, as {@code pip install
 *       nvidia-nccl-cu12} or {@code -cu13} and PyTorch's CUDA wheels lay it out).
 * </ol>
 *
 * An explicit path (1, 2) is binding: if it holds no loadable library the search stops there. Every
 * place looked at is reported with what was there, so "unavailable" always says where to look next.
 */
public final class NcclLibrary {

  public static final String PATH_PROPERTY = "mspx.nccl.path";
  public static final String PATH_ENV = "MSPX_NCCL_PATH";
  static final String FILE = "libnccl.so.2";
  private static final byte[] ELF_MAGIC = {0x7f, 'E', 'L', 'F'};

  /** The outcome of a search: the loaded library and where it came from, or every reason why not. */
  public record Search(Optional<SymbolLookup> symbols, String origin, List<String> looked) {

    public boolean found() {
      return symbols.isPresent();
    }

    /** One line: where it was found, or each place looked at and what was there. */
    public String describe() {
      return found() ? FILE + " from " + origin : FILE + " not found: " + String.join("; ", looked)
          + ". Install NCCL 2 (e.g. pip install nvidia-nccl-cu12) or point -D" + PATH_PROPERTY + " (or " + PATH_ENV + ") at its folder";
    }
  }

  private NcclLibrary() {}

  /** The search this process asks for: its system property, environment and Python installs. */
  public static Search find() {
    Map<String, String> env = System.getenv();
    return find(Optional.ofNullable(System.getProperty(PATH_PROPERTY)), Optional.ofNullable(env.get(PATH_ENV)), true,
        sitePackages(env, Path.of(System.getProperty("user.home", "/root")), Path.of("/")));
  }

  /**
   * The search with its inputs given (for tests).
   *
   * @param systemLoader whether to ask {@code dlopen} by name
   * @param sitePackages site-packages folders whose {@code nvidia/nccl/lib} to try, in order
   */
  static Search find(Optional<String> property, Optional<String> env, boolean systemLoader, List<Path> sitePackages) {
    List<String> looked = new ArrayList<>();
    Optional<String> explicit = property.filter(s -> !s.isBlank());
    String from = "-D" + PATH_PROPERTY;
    if (explicit.isEmpty()) {
      explicit = env.filter(s -> !s.isBlank());
      from = PATH_ENV;
    }
    if (explicit.isPresent()) {
      Path p = Path.of(explicit.get());
      Path file = Files.isDirectory(p) ? p.resolve(FILE) : p;
      Optional<SymbolLookup> loaded = load(file, from + "=" + explicit.get(), looked);
      return new Search(loaded, loaded.isPresent() ? file.toString() : "", looked);
    }
    if (systemLoader) {
      try {
        SymbolLookup lookup = SymbolLookup.libraryLookup(FILE, Arena.global());
        return new Search(Optional.of(lookup), "the system loader", looked);
      } catch (IllegalArgumentException e) {
        looked.add("the system loader (LD_LIBRARY_PATH, ld.so cache): not there");
      }
    }
    for (Path site : sitePackages) {
      Path file = site.resolve("nvidia/nccl/lib").resolve(FILE);
      if (!Files.exists(file)) {
        continue;
      }
      Optional<SymbolLookup> loaded = load(file, file.toString(), looked);
      if (loaded.isPresent()) {
        return new Search(loaded, file.toString(), looked);
      }
    }
    if (!sitePackages.isEmpty()) {
      looked.add("nvidia/nccl/lib in " + sitePackages.size() + " Python site-packages folder(s): " + (looked.stream().anyMatch(s -> s.contains("nvidia/nccl")) ? "none loaded" : "not there"));
    } else {
      looked.add("Python site-packages: none found");
    }
    return new Search(Optional.empty(), "", looked);
  }

  private static Optional<SymbolLookup> load(Path file, String what, List<String> looked) {
    if (!Files.exists(file)) {
      looked.add(what + ": no " + file);
      return Optional.empty();
    }
    if (!isElf(file)) {
      looked.add(what + ": " + file + " is not an ELF shared library");
      return Optional.empty();
    }
    try {
      return Optional.of(SymbolLookup.libraryLookup(file, Arena.global()));
    } catch (IllegalArgumentException e) {
      looked.add(what + ": " + file + " does not load (" + e.getMessage() + ")");
      return Optional.empty();
    }
  }

  static boolean isElf(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return Arrays.equals(in.readNBytes(4), ELF_MAGIC);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Python site-packages folders that exist: PYTHONPATH, the active virtualenv or conda env, the
   * user's, then the system's, newest Python first (listed, never by running Python).
   */
  static List<Path> sitePackages(Map<String, String> env, Path home, Path root) {
    List<Path> dirs = new ArrayList<>();
    String pythonPath = env.get("PYTHONPATH");
    if (pythonPath != null) {
      for (String entry : pythonPath.split(":")) {
        if (!entry.isBlank()) {
          dirs.add(Path.of(entry));
        }
      }
    }
    for (String prefix : new String[] {"VIRTUAL_ENV", "CONDA_PREFIX"}) {
      String value = env.get(prefix);
      if (value != null && !value.isBlank()) {
        dirs.addAll(pythons(Path.of(value, "lib"), "site-packages"));
      }
    }
    dirs.addAll(pythons(home.resolve(".local/lib"), "site-packages"));
    for (Path python : pythons(root.resolve("usr/local/lib"), "")) {
      dirs.add(python.resolve("site-packages"));
      dirs.add(python.resolve("dist-packages"));
    }
    dirs.addAll(pythons(root.resolve("usr/lib"), "dist-packages"));
    return dirs.stream().filter(Files::isDirectory).distinct().toList();
  }

  private static List<Path> pythons(Path lib, String leaf) {
    List<Path> found = new ArrayList<>();
    if (!Files.isDirectory(lib)) {
      return found;
    }
    try (DirectoryStream<Path> children = Files.newDirectoryStream(lib, "python3*")) {
      for (Path child : children) {
        if (child.getFileName().toString().matches("python3(\\.\\d+)?")) {
          found.add(leaf.isEmpty() ? child : child.resolve(leaf));
        }
      }
    } catch (IOException e) {
      return found;
    }
    found.sort(Comparator.comparingInt(NcclLibrary::minor).reversed());
    return found;
  }

  private static int minor(Path p) {
    for (Path q = p; q != null && q.getFileName() != null; q = q.getParent()) {
      String name = q.getFileName().toString();
      if (name.matches("python3\\.\\d+")) {
        return Integer.parseInt(name.substring("python3.".length()));
      }
    }
    return -1;
  }
}
