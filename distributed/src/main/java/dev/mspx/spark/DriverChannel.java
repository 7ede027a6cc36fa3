package dev.mspx.spark;

import dev.mspx.core.Checkpoint;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * How rank 0 of a training stage reports to the driver while the stage runs: progress lines and
 * checkpoints, over one TCP connection to a socket the driver opens for each attempt. The driver
 * writes every checkpoint it receives (checked by reading it back, then renamed into place, so the
 * file under the real name is always a complete checkpoint): the last one is where a failed stage
 * resumes.
 */
final class DriverChannel implements AutoCloseable {

  private static final byte PROGRESS = 1;
  private static final byte CHECKPOINT = 2;
  private static final byte FINISHED = 3;

  private final ServerSocket server;
  private final Path checkpointFile;
  private final PrintWriter out;
  private final Thread reader;
  private volatile long lastCheckpointStep = -1;
  private volatile long finishedStep = -1;
  private volatile Throwable failure;
  private volatile Socket accepted;

  /** Opens the driver's side on {@code host} and starts reading in the background. */
  DriverChannel(String host, Path checkpointFile, PrintWriter out) {
    this.checkpointFile = checkpointFile;
    this.out = out;
    try {
      server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getByName(host), 0), 4);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the driver's progress socket on " + host + ": " + e.getMessage(), e);
    }
    reader = new Thread(this::read, "mspx-driver-channel");
    reader.setDaemon(true);
    reader.start();
  }

  /** Where rank 0 connects: {@code host:port}. */
  String address() {
    return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
  }

  private void read() {
    try (Socket socket = accepted = server.accept();
        DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()))) {
      while (true) {
        byte kind;
        try {
          kind = in.readByte();
        } catch (EOFException e) {
          return; // rank 0 went away: the stage's outcome says why
        }
        switch (kind) {
          case PROGRESS -> {
            long step = in.readLong();
            double loss = in.readDouble();
            double seconds = in.readDouble();
            out.printf(Locale.ROOT, "step %d  loss %.4f bits/dim  %.1f s%n", step, loss, seconds);
            out.flush();
          }
          case CHECKPOINT -> {
            long step = in.readLong();
            byte[] bytes = new byte[in.readInt()];
            in.readFully(bytes);
            writeCheckpoint(checkpointFile, bytes);
            lastCheckpointStep = step;
          }
          case FINISHED -> {
            finishedStep = in.readLong();
            return;
          }
          default -> throw new IOException("unknown message " + kind + " from rank 0");
        }
      }
    } catch (IOException | RuntimeException e) {
      if (!server.isClosed()) {
        failure = e;
      }
    }
  }

  /**
   * Writes checkpoint bytes to {@code target} atomically: a temporary file beside it, read back as a
   * checkpoint (a damaged transfer is refused there, never renamed into place), forced, renamed.
   */
  static void writeCheckpoint(Path target, byte[] bytes) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
    try {
      Files.write(tmp, bytes);
      try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
        channel.force(true);
      }
      Checkpoint.read(tmp);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
    } finally {
      if (tmp != null) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /** Waits until rank 0 said it finished (it does before its task returns); returns the final step. */
  long awaitFinished(long millis) throws InterruptedException {
    reader.join(millis);
    if (failure != null) {
      throw new IllegalStateException("the driver lost rank 0's reports: " + failure.getMessage(), failure);
    }
    if (finishedStep < 0) {
      throw new IllegalStateException("the stage ended but rank 0 never said it finished");
    }
    return finishedStep;
  }

  /** The step of the last checkpoint written in this attempt; -1 if none. */
  long lastCheckpointStep() {
    return lastCheckpointStep;
  }

  @Override
  public void close() {
    try {
      server.close();
      Socket socket = accepted;
      if (socket != null) {
        socket.close();
      }
    } catch (IOException ignored) {
      // nothing listens any more either way
    }
    reader.interrupt();
  }

  /**
   * Stops listening and waits (up to 30 s) for a checkpoint being written to be renamed into place, so
   * that the file read next is the last one this attempt will write.
   */
  void closeAndWait() throws InterruptedException {
    close();
    reader.join(30_000);
  }

  /** Rank 0's end: a connection to the driver's channel. */
  static final class Client implements AutoCloseable {
    private final Socket socket;
    private final DataOutputStream out;

    Client(String address) {
      int colon = address.lastIndexOf(':');
      try {
        socket = new Socket(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
      } catch (IOException e) {
        throw new UncheckedIOException("rank 0 cannot reach the driver at " + address + ": " + e.getMessage(), e);
      }
    }

    void progress(long step, double loss, double seconds) {
      try {
        out.writeByte(PROGRESS);
        out.writeLong(step);
        out.writeDouble(loss);
        out.writeDouble(seconds);
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("lost the driver: " + e.getMessage(), e);
      }
    }

    void checkpoint(long step, byte[] bytes) {
      try {
        out.writeByte(CHECKPOINT);
        out.writeLong(step);
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("lost the driver: " + e.getMessage(), e);
      }
    }

    void finished(long step) {
      try {
        out.writeByte(FINISHED);
        out.writeLong(step);
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("lost the driver: " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // the driver has what it needs, or the stage fails for another reason
      }
    }
  }
}
