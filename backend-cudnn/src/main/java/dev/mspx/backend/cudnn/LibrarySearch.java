package dev.mspx.backend.cudnn;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The inputs of native-library discovery, in the order {@link CudnnLibraries} consults them. {@link
 * #fromEnvironment()} reads them from this process; tests build them directly.
 *
 * @param pathProperty the value of {@code -Dmspx.cudnn.path}, empty when unset or blank
 * @param pathEnv the value of {@code MSPX_CUDNN_PATH}, empty when unset or blank
 * @param systemLoader whether to ask the system loader ({@code dlopen} by library name)
 * @param sitePackages Python site-packages directories whose {@code nvidia/*} wheel folders to
 *     search
 */
record LibrarySearch(
    Optional<String> pathProperty,
    Optional<String> pathEnv,
    boolean systemLoader,
    List<Path> sitePackages) {

  static final String PATH_PROPERTY = "mspx.cudnn.path";
  static final String PATH_ENV = "MSPX_CUDNN_PATH";

  /** How {@link #sitePackages} was made, for the "looked in" list. */
  static final String SITE_PACKAGES_SCANNED =
      "PYTHONPATH, $VIRTUAL_ENV and $CONDA_PREFIX lib/python3*/site-packages,"
          + " ~/.local/lib/python3*/site-packages, /usr/local/lib/python3*/{site,dist}-packages,"
          + " /usr/lib/python3*/dist-packages";

  LibrarySearch {
    pathProperty = pathProperty.filter(s -> !s.isBlank());
    pathEnv = pathEnv.filter(s -> !s.isBlank());
    sitePackages = List.copyOf(sitePackages);
  }

  /**
   * The search this process asks for: its system property, its environment, its Python installs.
   */
  static LibrarySearch fromEnvironment() {
    Map<String, String> env = System.getenv();
    return new LibrarySearch(
        Optional.ofNullable(System.getProperty(PATH_PROPERTY)),
        Optional.ofNullable(env.get(PATH_ENV)),
        true,
        pythonSitePackages(env, Path.of(System.getProperty("user.home", "/root")), Path.of("/")));
  }

  /**
   * The Python site-packages directories that exist, in the order Python would put them on its path
   * (PYTHONPATH first, then the active environment, the user's, and the system's), newest Python
   * first. Found by listing directories only: running Python to ask it would be slow and may start
   * anything.
   *
   * @param root the file-system root, so that tests can lay out a fake one
   */
  static List<Path> pythonSitePackages(Map<String, String> env, Path home, Path root) {
    Set<Path> dirs = new LinkedHashSet<>();
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
        dirs.addAll(pythonDirs(Path.of(value, "lib"), "site-packages"));
      }
    }
    dirs.addAll(pythonDirs(home.resolve(".local/lib"), "site-packages"));
    Path usrLocalLib = root.resolve("usr/local/lib");
    for (Path python : pythonDirs(usrLocalLib, "")) {
      dirs.add(python.resolve("site-packages"));
      dirs.add(python.resolve("dist-packages"));
    }
    dirs.addAll(pythonDirs(root.resolve("usr/lib"), "dist-packages"));
    List<Path> existing = new ArrayList<>();
    for (Path dir : dirs) {
      if (Files.isDirectory(dir)) {
        existing.add(dir);
      }
    }
    return existing;
  }

  private static final Pattern PYTHON3 = Pattern.compile("python3(?:\\.(\\d+))?");

  /** {@code lib/python3*}/{@code leaf}, newest minor version first ({@code python3} alone last). */
  private static List<Path> pythonDirs(Path lib, String leaf) {
    List<Path> found = new ArrayList<>();
    if (!Files.isDirectory(lib)) {
      return found;
    }
    try (DirectoryStream<Path> children = Files.newDirectoryStream(lib, "python3*")) {
      for (Path child : children) {
        if (PYTHON3.matcher(child.getFileName().toString()).matches()) {
          found.add(leaf.isEmpty() ? child : child.resolve(leaf));
        }
      }
    } catch (IOException e) {
      return found; // an unreadable lib directory holds nothing we can load anyway
    }
    found.sort(Comparator.comparingInt(LibrarySearch::pythonMinor).reversed());
    return found;
  }

  private static int pythonMinor(Path path) {
    for (Path p = path; p != null && p.getFileName() != null; p = p.getParent()) {
      Matcher m = PYTHON3.matcher(p.getFileName().toString());
      if (m.matches()) {
        return m.group(1) == null ? -1 : Integer.parseInt(m.group(1));
      }
    }
    return -1;
  }
}
