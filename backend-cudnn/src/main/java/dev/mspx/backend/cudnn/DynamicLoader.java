package dev.mspx.backend.cudnn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Loads shared libraries with {@link SymbolLookup#libraryLookup} (which is {@code dlopen}) and,
 * where the JDK's answer is too thin, asks the dynamic loader directly: {@code dlerror} for why a
 * library does not load (the JDK only says "Cannot open library") and {@code dladdr} for which file
 * a library loaded by name came from. Linux only, like CUDA here.
 */
// Native access is this class's job; the JVM flags enable it (--enable-native-access).
@SuppressWarnings("restricted")
final class DynamicLoader {

  private static final int RTLD_LAZY = 0x1;
  private static final byte[] ELF_MAGIC = {0x7f, 'E', 'L', 'F'};

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIBC = LINKER.defaultLookup();
  private static final Optional<MethodHandle> DLOPEN =
      downcall("dlopen", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
  private static final Optional<MethodHandle> DLERROR =
      downcall("dlerror", FunctionDescriptor.of(ADDRESS));
  private static final Optional<MethodHandle> DLCLOSE =
      downcall("dlclose", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final Optional<MethodHandle> DLADDR =
      downcall("dladdr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

  private DynamicLoader() {}

  /** The outcome of one load: the library's symbols, or the loader's explanation. */
  record Outcome(Optional<SymbolLookup> symbols, String error) {

    static Outcome loaded(SymbolLookup symbols) {
      return new Outcome(Optional.of(symbols), "");
    }

    static Outcome failed(String error) {
      return new Outcome(Optional.empty(), error);
    }
  }

  /**
   * Loads a library file for the life of the process: the CUDA runtime must not be unloaded once it
   * has initialised (its exit handlers stay registered), and a backend keeps it loaded anyway.
   */
  static Outcome load(Path file) {
    if (!isElf(file)) {
      // Checked first so that a stray file is reported plainly instead of a JVM stack-guard
      // warning.
      return Outcome.failed("not an ELF shared library");
    }
    try {
      return Outcome.loaded(SymbolLookup.libraryLookup(file, Arena.global()));
    } catch (IllegalArgumentException e) {
      return Outcome.failed(loaderError(file.toString()).orElse(e.getMessage()));
    }
  }

  /** Loads a library by name through the system loader's search (LD_LIBRARY_PATH, ld.so.cache). */
  static Outcome load(String name) {
    try {
      return Outcome.loaded(SymbolLookup.libraryLookup(name, Arena.global()));
    } catch (IllegalArgumentException e) {
      return Outcome.failed(loaderError(name).orElse(e.getMessage()));
    }
  }

  /** Whether a failed load by name meant "no such library" rather than "found but broken". */
  static boolean isNotFound(String name, String error) {
    return error.startsWith(name + ": cannot open shared object file")
        || error.equals("Cannot open library: " + name);
  }

  /** Why {@code dlopen} refuses {@code nameOrPath}, from {@code dlerror}; empty if it loads now. */
  static Optional<String> loaderError(String nameOrPath) {
    if (DLOPEN.isEmpty() || DLERROR.isEmpty()) {
      return Optional.empty();
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment handle =
          (MemorySegment) DLOPEN.get().invokeExact(arena.allocateFrom(nameOrPath), RTLD_LAZY);
      if (!handle.equals(MemorySegment.NULL)) {
        if (DLCLOSE.isPresent()) {
          int ignored = (int) DLCLOSE.get().invokeExact(handle);
        }
        return Optional.empty();
      }
      MemorySegment message = (MemorySegment) DLERROR.get().invokeExact();
      return message.equals(MemorySegment.NULL)
          ? Optional.empty()
          : Optional.of(message.reinterpret(Long.MAX_VALUE).getString(0));
    } catch (Throwable t) {
      return Optional.empty(); // diagnostics only: the caller still has the JDK's message
    }
  }

  /** The file that holds {@code symbol}, from {@code dladdr}; empty where it cannot tell. */
  static Optional<String> fileOf(MemorySegment symbol) {
    if (DLADDR.isEmpty()) {
      return Optional.empty();
    }
    try (Arena arena = Arena.ofConfined()) {
      // Dl_info { const char *dli_fname; void *dli_fbase; const char *dli_sname; void *dli_saddr; }
      MemorySegment info = arena.allocate(ADDRESS.byteSize() * 4, ADDRESS.byteAlignment());
      int ok = (int) DLADDR.get().invokeExact(symbol, info);
      MemorySegment name = info.get(ADDRESS, 0);
      if (ok == 0 || name.equals(MemorySegment.NULL)) {
        return Optional.empty();
      }
      return Optional.of(name.reinterpret(Long.MAX_VALUE).getString(0));
    } catch (Throwable t) {
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

  private static Optional<MethodHandle> downcall(String name, FunctionDescriptor descriptor) {
    return LIBC.find(name).map(address -> LINKER.downcallHandle(address, descriptor));
  }
}
