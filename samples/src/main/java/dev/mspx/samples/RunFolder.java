package dev.mspx.samples;

import dev.mspx.core.Checkpoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A training run's {@code --out} folder, held by one {@code mspx train} at a time. {@link #claim}
 * takes the lock file {@value #LOCK} in it: an operating-system lock on the file (released by the
 * kernel however the process ends, so it is never wrongly held) and, inside, the process id and start
 * time for the message another run gets. A lock file left by a process that ended without removing it
 * is taken over with a message. Under the lock, the temporary files of saves that a killed run left
 * behind ({@code .checkpoint.arrow.<digits>.tmp}, named as {@link Checkpoint#write} names them) are
 * removed; nothing else is touched. {@link #close} removes the lock file, and the folder too when
 * this run made it and left nothing in it.
 */
final class RunFolder implements AutoCloseable {

  static final String LOCK = ".mspx-train.lock";

  /** The files a run writes in its folder; their temporary files are the only ones removed. */
  static final List<String> OWN_FILES = List.of("checkpoint.arrow", "log.csv", "log.png");

  private final Path folder;
  private final Path lockFile;
  private final FileChannel channel;
  private final FileLock lock;
  private final boolean created;
  private boolean closed;

  private RunFolder(Path folder, Path lockFile, FileChannel channel, FileLock lock, boolean created) {
    this.folder = folder;
    this.lockFile = lockFile;
    this.channel = channel;
    this.lock = lock;
    this.created = created;
  }

  /**
   * Refuses an {@code --out} that cannot be a run folder, without creating or changing anything: a
   * file, a folder that cannot be made or written, a run's checkpoint without {@code --resume}, or
   * {@code --resume} without one.
   */
  static void check(Path folder, boolean resume) {
    if (Files.exists(folder) && !Files.isDirectory(folder)) {
      throw new IllegalArgumentException("--out " + folder + " is a file: give a folder for the run (a new one, or a run's folder with --resume)");
    }
    Images.checkWritableFolder(folder.toAbsolutePath(), "--out " + folder);
    Path checkpoint = folder.resolve("checkpoint.arrow");
    if (!resume && Files.exists(checkpoint)) {
      throw new IllegalArgumentException(checkpoint + " exists: pass --resume to continue it, or another --out");
    }
    if (resume && !Files.isRegularFile(checkpoint)) {
      throw new IllegalArgumentException("--resume: " + folder + " holds no checkpoint.arrow to continue; leave out --resume to start a new run there");
    }
  }

  /** Takes the folder for this process (making it if needed); refused when another live run holds it. */
  static RunFolder claim(Path folder, PrintWriter out) {
    boolean created = !Files.exists(folder);
    Path lockFile = folder.resolve(LOCK);
    FileChannel channel = null;
    try {
      Files.createDirectories(folder);
      channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // held by this very process (another command in the same JVM, as in tests)
      }
      if (lock == null) {
        String holder = read(channel);
        channel.close();
        throw new IllegalArgumentException("--out " + folder + " is in use by another mspx train (" + describe(holder)
            + "): wait for it to finish, stop it, or choose another --out");
      }
      String previous = read(channel);
      if (!previous.isBlank()) {
        out.println("mspx: taking over the lock of " + describe(previous) + " on " + folder + ", which ended without releasing it");
      }
      ProcessHandle self = ProcessHandle.current();
      String mine = "pid=" + self.pid() + "\nstarted=" + self.info().startInstant().orElse(Instant.now()) + "\n";
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(mine.getBytes(StandardCharsets.UTF_8)), 0);
      channel.force(true);
      RunFolder run = new RunFolder(folder, lockFile, channel, lock, created);
      run.removeStaleTemporaryFiles(out);
      return run;
    } catch (IOException e) {
      closeQuietly(channel);
      throw new UncheckedIOException("--out " + folder + ": " + e.getMessage(), e);
    }
  }

  /** {@code process 1234, started 2025-...} from a lock file's text. */
  private static String describe(String lockText) {
    String pid = "?", started = null;
    for (String line : lockText.split("\n")) {
      if (line.startsWith("pid=")) {
        pid = line.substring(4).strip();
      } else if (line.startsWith("started=")) {
        started = line.substring(8).strip();
      }
    }
    return "process " + pid + (started == null ? "" : ", started " + started);
  }

  private static String read(FileChannel channel) throws IOException {
    long size = Math.min(channel.size(), 4096);
    ByteBuffer b = ByteBuffer.allocate((int) size);
    channel.read(b, 0);
    return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
  }

  /** Removes {@code .checkpoint.arrow.<digits>.tmp} and the like: saves a killed run never finished. */
  private void removeStaleTemporaryFiles(PrintWriter out) throws IOException {
    List<Path> stale;
    try (Stream<Path> files = Files.list(folder)) {
      stale = files.filter(f -> OWN_FILES.stream().anyMatch(own -> Checkpoint.isTemporaryFileOf(folder.resolve(own), f))).sorted().toList();
    }
    for (Path f : stale) {
      long bytes = Files.size(f);
      Files.delete(f);
      out.printf(Locale.ROOT, "mspx: removed %s (%.1f MB), a save that a killed run did not finish%n", f, bytes / 1e6);
    }
  }

  Path folder() {
    return folder;
  }

  /** Releases the lock and removes the lock file (and the folder, if this run made it and it is empty). */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Files.deleteIfExists(lockFile);
      lock.release();
      channel.close();
      if (created) {
        try (Stream<Path> left = Files.list(folder)) {
          if (left.findAny().isEmpty()) {
            Files.delete(folder);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot release " + lockFile + ": " + e.getMessage() + " (remove it by hand)", e);
    }
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // already failing with the original error
      }
    }
  }
}
