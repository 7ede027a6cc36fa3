package dev.mspx.samples;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * A batch whose arena could not fit this machine is refused before it is allocated, naming the option
 * and the bytes. The commands' default batches fit a 512 MB arena ({@code Model.defaultBatch}); an
 * explicit one may go up to {@value #SHARE_PERCENT}% of the physical memory, arenas over 2 GiB
 * included.
 */
final class Arenas {

  static final int SHARE_PERCENT = 75;

  private Arenas() {}

  /** Refuses {@code bytes} of arena for {@code what} (e.g. {@code --batch 5000}) when it exceeds the share of memory. */
  static void check(long bytes, String what, String command) {
    long physical = physicalMemory();
    if (physical > 0 && bytes > physical / 100 * SHARE_PERCENT) {
      throw new UsageException(String.format(Locale.ROOT, "%s needs a %.1f GB arena, more than %d%% of this machine's %.1f GB:"
          + " give a smaller batch (mspx %s picks one that fits when you leave it out)", what, bytes / 1e9, SHARE_PERCENT, physical / 1e9, command));
    }
  }

  /** The machine's physical memory in bytes, or 0 when the JVM does not say. */
  static long physicalMemory() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getTotalMemorySize();
    }
    return 0;
  }
}
