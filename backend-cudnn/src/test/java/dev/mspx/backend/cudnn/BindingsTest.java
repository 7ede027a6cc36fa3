package dev.mspx.backend.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.backend.cudnn.bindings.cuda_h;
import dev.mspx.backend.cudnn.bindings.cuda_runtime_api_h;
import dev.mspx.backend.cudnn.bindings.cudnn_h;
import java.io.IOException;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed jextract bindings: they compile on their own with JDK 25 and no warning, every
 * class loads without any native library, and they bind exactly what the {@code *.symbols} filter
 * files of {@code bindings/regenerate.sh} list (so a filter edited without regenerating fails here).
 */
class BindingsTest {

  /** Surefire runs in the module folder. */
  private static final Path MODULE = Path.of("").toAbsolutePath();

  private static final Path SOURCES = MODULE.resolve("src/main/java/dev/mspx/backend/cudnn/bindings");
  private static final Path FILTERS = MODULE.resolve("bindings");

  @TempDir Path tmp;

  @Test
  void committedSourcesCompileAloneWithJdk25AndNoWarnings() throws IOException {
    List<Path> sources;
    try (Stream<Path> files = Files.list(SOURCES)) {
      sources = files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
    assertTrue(sources.size() >= 9, "bindings sources in " + SOURCES + ": " + sources);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter diagnostics = new StringWriter();
    try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, null)) {
      boolean ok =
          javac
              .getTask(
                  diagnostics,
                  files,
                  null,
                  List.of("--release", "25", "-Xlint:all", "-Werror", "-d", tmp.toString()),
                  null,
                  files.getJavaFileObjectsFromPaths(sources))
              .call();
      assertTrue(ok, "the committed bindings do not compile cleanly:\n" + diagnostics);
    }
  }

  @Test
  void everyBindingClassLoadsWithoutTouchingNativeCode() throws Exception {
    // Class initialisation must not look up symbols: this runs on machines without CUDA.
    for (String name : bindingClassNames()) {
      Class.forName("dev.mspx.backend.cudnn.bindings." + name, true, getClass().getClassLoader());
    }
    assertEquals(0, cudnn_h.CUDNN_STATUS_SUCCESS());
    assertEquals(9, cudnn_h.CUDNN_MAJOR());
  }

  @Test
  void constantsAgreeWithTheValuesTheProbesAndKernelsAssume() {
    assertEquals(CudaStatus.SUCCESS, cuda_runtime_api_h.cudaSuccess());
    assertEquals(CudaStatus.INITIALIZATION_ERROR, cuda_runtime_api_h.cudaErrorInitializationError());
    assertEquals(CudaStatus.INSUFFICIENT_DRIVER, cuda_runtime_api_h.cudaErrorInsufficientDriver());
    assertEquals(CudaStatus.NO_DEVICE, cuda_runtime_api_h.cudaErrorNoDevice());
    assertEquals(0, cuda_h.CUDA_SUCCESS());
    assertEquals(0, cudnn_h.CUDNN_TENSOR_NCHW());
    assertEquals(0, cudnn_h.CUDNN_DATA_FLOAT());
  }

  @Test
  void bindingsHoldExactlyWhatTheFilterFilesList() throws IOException {
    check("cuda_runtime_api.symbols", cuda_runtime_api_h.class);
    check("cuda.symbols", cuda_h.class);
    check("cudnn.symbols", cudnn_h.class);
  }

  private static void check(String filterFile, Class<?> header) throws IOException {
    Set<String> functions = new TreeSet<>();
    Set<String> constants = new TreeSet<>();
    Set<String> structs = new TreeSet<>();
    for (String line : Files.readAllLines(FILTERS.resolve(filterFile))) {
      String[] words = line.trim().split("\\s+");
      if (words.length < 2 || words[0].startsWith("#")) {
        continue;
      }
      switch (words[0]) {
        case "--include-function" -> functions.add(words[1]);
        case "--include-constant" -> constants.add(words[1]);
        case "--include-struct" -> structs.add(words[1]);
        default -> throw new AssertionError(filterFile + ": unexpected option " + line);
      }
    }
    // The header class (with its $shared base) declares one public static method per function
    // and constant, plus name$handle/$descriptor/$address helpers and the C_* layouts.
    Set<String> bound = new TreeSet<>();
    for (Method m : header.getDeclaredMethods()) {
      if (Modifier.isPublic(m.getModifiers()) && !m.getName().contains("$")) {
        bound.add(m.getName());
      }
    }
    Set<String> expected = new TreeSet<>(functions);
    expected.addAll(constants);
    Set<String> missing = new TreeSet<>(expected);
    missing.removeAll(bound);
    Set<String> extra = new TreeSet<>(bound);
    extra.removeAll(expected);
    assertTrue(
        missing.isEmpty() && extra.isEmpty(),
        header.getSimpleName()
            + " differs from "
            + filterFile
            + ": listed but not bound "
            + missing
            + ", bound but not listed "
            + extra
            + "; run backend-cudnn/bindings/regenerate.sh after editing the filter");
    for (String struct : structs) {
      try {
        Class.forName("dev.mspx.backend.cudnn.bindings." + struct);
      } catch (ClassNotFoundException e) {
        throw new AssertionError(filterFile + " lists struct " + struct + " but it is not generated");
      }
    }
  }

  private static List<String> bindingClassNames() throws IOException {
    List<String> names = new ArrayList<>();
    try (Stream<Path> files = Files.list(SOURCES)) {
      for (Path p : files.sorted().toList()) {
        String file = p.getFileName().toString();
        if (file.endsWith(".java") && !file.equals("package-info.java")) {
          names.add(file.substring(0, file.length() - ".java".length()));
        }
      }
    }
    assertTrue(
        names.containsAll(Arrays.asList("cuda_h", "cuda_runtime_api_h", "cudnn_h")),
        names.stream().collect(Collectors.joining(", ")));
    return names;
  }
}
