package dev.mspx.backend.cudnn;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Stand-in library files for discovery tests: real ELF objects (that are not cuDNN) and junk. */
final class NativeFixtures {

  private NativeFixtures() {}

  /** A copy of a small JDK library at {@code dir/name}: it loads, and has no CUDA symbols. */
  static Path elfLibrary(Path dir, String name) throws IOException {
    Path lib = Path.of(System.getProperty("java.home"), "lib");
    Optional<Path> source =
        List.of("libjimage.so", "libverify.so", "libzip.so").stream()
            .map(lib::resolve)
            .filter(Files::isRegularFile)
            .findFirst();
    assumeTrue(source.isPresent(), "no small ELF library in " + lib + " to stand in for cuDNN");
    Files.createDirectories(dir);
    return Files.copy(source.get(), dir.resolve(name));
  }

  /** A file with a library's name that is not a library. */
  static Path junkFile(Path dir, String name) throws IOException {
    Files.createDirectories(dir);
    return Files.writeString(dir.resolve(name), "not a shared library\n");
  }

  static LibrarySearch search(String property, String env, List<Path> sitePackages) {
    return new LibrarySearch(
        Optional.ofNullable(property), Optional.ofNullable(env), false, sitePackages);
  }
}
