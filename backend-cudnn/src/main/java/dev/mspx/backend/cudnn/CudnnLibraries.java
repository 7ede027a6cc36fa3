package dev.mspx.backend.cudnn;

import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Finds libcudnn and the CUDA runtime (libcudart) on this machine. Nothing is ever downloaded. Each
 * library is looked for in one order, and every place looked at is recorded with what was there:
 *
 * <ol>
 *   <li>the system property {@code -Dmspx.cudnn.path}: a directory holding the libraries, or the
 *       libcudnn file itself (then its directory is searched for the CUDA runtime);
 *   <li>the environment variable {@code MSPX_CUDNN_PATH}, the same way, only when the property is
 *       unset;
 *   <li>the system loader: {@code dlopen} by name ({@code libcudnn.so.9}, {@code libcudnn.so};
 *       {@code libcudart.so.13}, {@code .so.12}, {@code .so}), which searches LD_LIBRARY_PATH, the
 *       ld.so cache and the default directories;
 *   <li>the NVIDIA wheels in Python site-packages ({@link LibrarySearch#pythonSitePackages}):
 *       {@code nvidia/cudnn/lib} for cuDNN, {@code nvidia/cu13/lib} and {@code
 *       nvidia/cuda_runtime/lib} for the CUDA runtime, as {@code pip install nvidia-cudnn-cu13}
 *       lays them out.
 * </ol>
 *
 * The first place where the library loads wins. A path set explicitly (1 or 2) is binding for
 * cuDNN: if it holds no loadable libcudnn the search stops there, rather than quietly using another
 * copy. For the CUDA runtime it is only the first place to look, since a cuDNN folder rarely holds
 * one. The runtime is looked for after cuDNN, and the places are searched first for the runtime of
 * the CUDA major that cuDNN was built for ({@link #findCudart}).
 */
final class CudnnLibraries {

  static final List<String> CUDNN_NAMES = List.of("libcudnn.so.9", "libcudnn.so");
  static final List<String> CUDART_NAMES =
      List.of("libcudart.so.13", "libcudart.so.12", "libcudart.so");
  static final List<String> CUDNN_WHEEL_DIRS = List.of("nvidia/cudnn/lib");
  static final List<String> CUDART_WHEEL_DIRS =
      List.of("nvidia/cu13/lib", "nvidia/cuda_runtime/lib");

  /** A library that loaded: where it was found, the file, and its symbols. */
  record Loaded(String place, String file, SymbolLookup symbols) {

    /** The directory that holds the file, where its sibling libraries should be. */
    Optional<Path> directory() {
      Path parent = Path.of(file).getParent();
      return parent == null || !Path.of(file).isAbsolute() ? Optional.empty() : Optional.of(parent);
    }
  }

  /**
   * The outcome of looking for one library.
   *
   * @param what what it is, in words ("cuDNN")
   * @param names the file names looked for, preferred first
   * @param loaded the library, when one loaded
   * @param lookedIn every place consulted, each with what was found there
   * @param explicitFailure why the explicitly set path failed, when it was binding and did
   * @param install what to do when it was not found
   */
  record Located(
      String what,
      List<String> names,
      Optional<Loaded> loaded,
      List<String> lookedIn,
      Optional<String> explicitFailure,
      String install) {

    Located {
      names = List.copyOf(names);
      lookedIn = List.copyOf(lookedIn);
    }

    /**
     * Why the library is not usable, naming every place looked at and what to do; empty if loaded.
     */
    Optional<String> failure() {
      if (loaded.isPresent()) {
        return Optional.empty();
      }
      String lead = explicitFailure.orElse(names.getFirst() + " not found");
      return Optional.of(lead + "; looked in: " + String.join(", ", lookedIn) + "; " + install);
    }
  }

  private final Located cudnn;
  private final Located cudart;

  private CudnnLibraries(Located cudnn, Located cudart) {
    this.cudnn = cudnn;
    this.cudart = cudart;
  }

  /**
   * Looks for both libraries as {@code search} says, loading what it finds: cuDNN first, then the
   * CUDA runtime of the CUDA major version that cuDNN was built for ({@code cudnnGetCudartVersion}),
   * if any place has it, else any runtime (the provider then reports the mismatch).
   */
  static CudnnLibraries discover(LibrarySearch search) {
    Located cudnn =
        new Finder(
                "cuDNN",
                CUDNN_NAMES,
                CUDNN_WHEEL_DIRS,
                "cudnnGetVersion",
                true,
                "install cuDNN 9 (e.g. pip install nvidia-cudnn-cu13, or NVIDIA's cudnn9 packages)"
                    + " or point -D"
                    + LibrarySearch.PATH_PROPERTY
                    + " (or "
                    + LibrarySearch.PATH_ENV
                    + ") at the folder that holds libcudnn.so.9")
            .find(search);
    Optional<Integer> builtFor =
        cudnn
            .loaded()
            .flatMap(l -> CudnnProbe.cudartVersion(l.symbols()))
            .map(v -> (int) (v / 1000));
    return new CudnnLibraries(cudnn, findCudart(search, builtFor));
  }

  /**
   * The CUDA runtime, in the same order of places; with {@code preferredMajor} (the CUDA major cuDNN
   * was built for), every place is first searched for {@code libcudart.so.<major>} alone, so that a
   * system CUDA toolkit of another version does not hide the runtime beside a pip-installed cuDNN.
   */
  static Located findCudart(LibrarySearch search, Optional<Integer> preferredMajor) {
    if (preferredMajor.isEmpty()) {
      return cudartFinder(CUDART_NAMES).find(search);
    }
    String name = "libcudart.so." + preferredMajor.get();
    Located matching = cudartFinder(List.of(name)).find(search);
    if (matching.loaded().isPresent()) {
      return matching;
    }
    Located any = cudartFinder(CUDART_NAMES).find(search);
    List<String> lookedIn = new ArrayList<>();
    lookedIn.add(
        "first for "
            + name
            + ", the runtime cuDNN was built for: ["
            + String.join(", ", matching.lookedIn())
            + "], then for any");
    lookedIn.addAll(any.lookedIn());
    return new Located(
        any.what(), any.names(), any.loaded(), lookedIn, any.explicitFailure(), any.install());
  }

  private static Finder cudartFinder(List<String> names) {
    return new Finder(
        "CUDA runtime",
        names,
        CUDART_WHEEL_DIRS,
        "cudaRuntimeGetVersion",
        false,
        "install the CUDA runtime (e.g. pip install nvidia-cuda-runtime, or the CUDA"
            + " toolkit) or put the folder holding libcudart.so.13 on LD_LIBRARY_PATH");
  }

  Located cudnn() {
    return cudnn;
  }

  Located cudart() {
    return cudart;
  }

  /** One search, recording as it goes. */
  private static final class Finder {
    private final String what;
    private final List<String> names;
    private final List<String> wheelDirs;
    private final String knownSymbol;
    private final boolean explicitPathBinds;
    private final String install;
    private final List<String> lookedIn = new ArrayList<>();

    Finder(
        String what,
        List<String> names,
        List<String> wheelDirs,
        String knownSymbol,
        boolean explicitPathBinds,
        String install) {
      this.what = what;
      this.names = names;
      this.wheelDirs = wheelDirs;
      this.knownSymbol = knownSymbol;
      this.explicitPathBinds = explicitPathBinds;
      this.install = install;
    }

    Located find(LibrarySearch search) {
      String property = "-D" + LibrarySearch.PATH_PROPERTY;
      String env = LibrarySearch.PATH_ENV;
      Optional<String> explicit = search.pathProperty().or(search::pathEnv);

      // 1 and 2: the explicit path, the property before the environment.
      if (search.pathProperty().isPresent()) {
        Optional<Loaded> hit = inExplicitPath(property, search.pathProperty().get());
        if (hit.isPresent()) {
          search
              .pathEnv()
              .ifPresent(
                  v -> lookedIn.add(env + "=" + v + " (not consulted: " + property + " is set)"));
          return done(hit);
        }
      } else {
        lookedIn.add(property + " (unset)");
      }
      if (search.pathEnv().isEmpty()) {
        lookedIn.add(env + " (unset)");
      } else if (search.pathProperty().isPresent()) {
        lookedIn.add(
            env + "=" + search.pathEnv().get() + " (not consulted: " + property + " is set)");
      } else {
        Optional<Loaded> hit = inExplicitPath(env, search.pathEnv().get());
        if (hit.isPresent()) {
          return done(hit);
        }
      }
      if (explicit.isPresent() && explicitPathBinds) {
        String source = search.pathProperty().isPresent() ? property : env;
        return new Located(
            what,
            names,
            Optional.empty(),
            lookedIn,
            Optional.of(
                source
                    + "="
                    + explicit.get()
                    + " holds no loadable "
                    + String.join(" or ", names)
                    + " (the search stops at an explicit path; fix it or unset it to search the"
                    + " system loader and Python site-packages)"),
            install);
      }

      // 3: the system loader.
      if (search.systemLoader()) {
        Optional<Loaded> hit = inSystemLoader();
        if (hit.isPresent()) {
          return done(hit);
        }
      } else {
        lookedIn.add("system loader (not consulted)");
      }

      // 4: NVIDIA's wheels in Python site-packages.
      Optional<Loaded> hit = inSitePackages(search.sitePackages());
      if (hit.isPresent()) {
        return done(hit);
      }
      return new Located(what, names, Optional.empty(), lookedIn, Optional.empty(), install);
    }

    private Located done(Optional<Loaded> hit) {
      return new Located(what, names, hit, lookedIn, Optional.empty(), install);
    }

    private Optional<Loaded> inExplicitPath(String source, String value) {
      String place = source + "=" + value;
      Path path = Path.of(value);
      if (Files.isRegularFile(path)) {
        if (explicitPathBinds) {
          return tryFile(place, path);
        }
        path = path.toAbsolutePath().getParent(); // the libcudnn file: look beside it
      }
      if (!Files.isDirectory(path)) {
        lookedIn.add(place + " (no such file or directory)");
        return Optional.empty();
      }
      return inDirectory(place, path);
    }

    /**
     * The first of {@link #names} in {@code dir}; a file that exists but does not load is noted.
     */
    private Optional<Loaded> inDirectory(String place, Path dir) {
      for (String name : names) {
        Path file = dir.resolve(name);
        if (Files.exists(file)) {
          return tryFile(place, file);
        }
      }
      lookedIn.add(place + " (no " + String.join(", ", names) + ")");
      return Optional.empty();
    }

    private Optional<Loaded> tryFile(String place, Path file) {
      DynamicLoader.Outcome outcome = DynamicLoader.load(file);
      if (outcome.symbols().isEmpty()) {
        lookedIn.add(place + " (" + file + " does not load: " + outcome.error() + ")");
        return Optional.empty();
      }
      lookedIn.add(place + " (loaded " + file + ")");
      return Optional.of(
          new Loaded(place, file.toAbsolutePath().toString(), outcome.symbols().get()));
    }

    private Optional<Loaded> inSystemLoader() {
      List<String> broken = new ArrayList<>();
      for (String name : names) {
        DynamicLoader.Outcome outcome = DynamicLoader.load(name);
        if (outcome.symbols().isPresent()) {
          SymbolLookup symbols = outcome.symbols().get();
          String file = symbols.find(knownSymbol).flatMap(DynamicLoader::fileOf).orElse(name);
          String place = "system loader, as " + name;
          lookedIn.add("system loader (loaded " + name + " from " + file + ")");
          return Optional.of(new Loaded(place, file, symbols));
        }
        if (!DynamicLoader.isNotFound(name, outcome.error())) {
          broken.add(outcome.error());
        }
      }
      String names = String.join(", ", this.names);
      lookedIn.add(
          broken.isEmpty()
              ? "system loader (dlopen " + names + ": not found)"
              : "system loader (dlopen " + names + ": " + String.join("; ", broken) + ")");
      return Optional.empty();
    }

    private Optional<Loaded> inSitePackages(List<Path> sitePackages) {
      String wheels = String.join(", ", wheelDirs);
      if (sitePackages.isEmpty()) {
        lookedIn.add(
            "Python site-packages (none found in " + LibrarySearch.SITE_PACKAGES_SCANNED + ")");
        return Optional.empty();
      }
      List<Path> searched = new ArrayList<>();
      for (Path site : sitePackages) {
        for (String wheel : wheelDirs) {
          Path dir = site.resolve(wheel);
          if (Files.isDirectory(dir)) {
            Optional<Loaded> hit = inDirectory("Python site-packages " + dir, dir);
            if (hit.isPresent()) {
              return hit;
            }
          }
        }
        searched.add(site);
      }
      lookedIn.add(
          "Python site-packages "
              + searched.stream().map(Path::toString).collect(Collectors.joining(", ", "[", "]"))
              + " (no "
              + wheels
              + " with "
              + String.join(" or ", names)
              + ")");
      return Optional.empty();
    }
  }
}
