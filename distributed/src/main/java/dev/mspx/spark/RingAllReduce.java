package dev.mspx.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The ring all-reduce between the tasks of a barrier stage over plain TCP sockets (the algorithm of
 * Patarasuk and Yuan 2009 that Horovod and NCCL's ring use): the array is cut into R chunks; in R-1
 * reduce-scatter steps each replica sends one chunk to its successor and adds the chunk it receives
 * from its predecessor, after which replica r holds the complete sum of chunk r+1; in R-1 all-gather
 * steps the complete chunks travel once round the ring. Each replica sends and receives
 * {@code 2·(R-1)/R} of the array per all-reduce, whatever R is: the bandwidth term does not grow with
 * the number of replicas, only the {@code 2·(R-1)} latencies do.
 *
 * <p><b>Summation order.</b> Chunk c is summed as {@code ((g[c] + g[c+1]) + ...) + g[c-1]} (ranks
 * mod R: rank order, rotated to start at c), the same order on every run: the result does not depend on timing, threads or which machine
 * a task ran on, and every replica receives the same bits (the all-gather copies, it does not add).
 * For two replicas every chunk is {@code g0 + g1}, which float addition gives exactly as a single
 * process adding its two micro-batches would; for more replicas the order rotates with the chunk.
 *
 * <p><b>Failure.</b> A peer that dies closes its sockets (or its machine stops answering): reads
 * fail with the peer's rank named, so the whole barrier stage fails instead of hanging. Reads wake every
 * {@link #POLL_MILLIS} ms to ask whether the task was killed, and give up after {@code timeoutMillis}.
 */
public final class RingAllReduce implements Collective {

  static final int POLL_MILLIS = 200;

  private final int rank;
  private final int replicas;
  private final ServerSocket server;
  private final Socket next;
  private final Socket previous;
  private final OutputStream out;
  private final InputStream in;
  private final ExecutorService sender;
  private final BooleanSupplier cancelled;
  private final long timeoutMillis;
  private byte[] sendBuffer = new byte[0];
  private byte[] receiveBuffer = new byte[0];
  private long bytesSent;

  private static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /**
   * Opens this replica's listening socket on {@code host}, publishes its address through {@code
   * allGather} (every replica's {@code host:port}, by rank: Spark's {@code BarrierTaskContext.allGather}),
   * and connects the ring: to rank+1, from rank-1.
   *
   * @param cancelled whether the task was killed (checked while waiting for a peer)
   * @param timeoutMillis how long one read may wait for a peer before the all-reduce fails
   */
  public static RingAllReduce connect(int rank, int replicas, String host, Function<String, List<String>> allGather,
      BooleanSupplier cancelled, long timeoutMillis) {
    if (replicas < 1 || rank < 0 || rank >= replicas) {
      throw new IllegalArgumentException("rank " + rank + " of " + replicas);
    }
    ServerSocket server = null;
    Socket next = null;
    Socket previous = null;
    try {
      server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getByName(host), 0), replicas);
      List<String> addresses = allGather.apply(host + ":" + server.getLocalPort());
      if (addresses.size() != replicas) {
        throw new IllegalStateException("allGather gave " + addresses.size() + " addresses for " + replicas + " replicas");
      }
      if (replicas > 1) {
        String successor = addresses.get((rank + 1) % replicas);
        int colon = successor.lastIndexOf(':');
        next = new Socket();
        next.setTcpNoDelay(true);
        next.connect(new InetSocketAddress(successor.substring(0, colon), Integer.parseInt(successor.substring(colon + 1))), (int) Math.min(Integer.MAX_VALUE, timeoutMillis));
        // The successor knows who connected by the rank we send first.
        next.getOutputStream().write(intBytes(rank));
        server.setSoTimeout(POLL_MILLIS);
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (previous == null) {
          try {
            previous = server.accept();
          } catch (SocketTimeoutException e) {
            if (cancelled.getAsBoolean() || System.currentTimeMillis() > deadline) {
              throw new IOException("replica " + (rank + replicas - 1) % replicas + " never connected to replica " + rank);
            }
          }
        }
        previous.setTcpNoDelay(true);
        previous.setSoTimeout(POLL_MILLIS);
        byte[] who = new byte[4];
        readFully(previous.getInputStream(), who, 0, 4, cancelled, timeoutMillis, (rank + replicas - 1) % replicas);
        int from = ((who[0] & 0xff) << 24) | ((who[1] & 0xff) << 16) | ((who[2] & 0xff) << 8) | (who[3] & 0xff);
        if (from != (rank + replicas - 1) % replicas) {
          throw new IOException("replica " + rank + " expected its predecessor " + (rank + replicas - 1) % replicas + " but replica " + from + " connected");
        }
      }
      return new RingAllReduce(rank, replicas, server, next, previous, cancelled, timeoutMillis);
    } catch (IOException | RuntimeException e) {
      closeQuietly(previous);
      closeQuietly(next);
      closeQuietly(server);
      if (e instanceof IOException io) {
        throw new UncheckedIOException("ring all-reduce: replica " + rank + " of " + replicas + " could not connect: " + io.getMessage(), io);
      }
      throw (RuntimeException) e;
    }
  }

  private RingAllReduce(int rank, int replicas, ServerSocket server, Socket next, Socket previous, BooleanSupplier cancelled, long timeoutMillis)
      throws IOException {
    this.rank = rank;
    this.replicas = replicas;
    this.server = server;
    this.next = next;
    this.previous = previous;
    this.out = next == null ? null : next.getOutputStream();
    this.in = previous == null ? null : previous.getInputStream();
    this.sender = replicas > 1 ? Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "mspx-ring-send-" + rank);
      t.setDaemon(true);
      return t;
    }) : null;
    this.cancelled = cancelled;
    this.timeoutMillis = timeoutMillis;
  }

  @Override
  public int rank() {
    return rank;
  }

  @Override
  public int replicas() {
    return replicas;
  }

  @Override
  public long bytesSent() {
    return bytesSent;
  }

  /** First element of chunk {@code c} of an array of {@code n} elements in R chunks. */
  private long chunkStart(int c, int n) {
    return (long) n * c / replicas;
  }

  @Override
  public void allReduce(float[] data) {
    if (replicas == 1) {
      return;
    }
    int n = data.length;
    int largest = 0;
    for (int c = 0; c < replicas; c++) {
      largest = (int) Math.max(largest, chunkStart(c + 1, n) - chunkStart(c, n));
    }
    if (sendBuffer.length < 4 * largest) {
      sendBuffer = new byte[4 * largest];
      receiveBuffer = new byte[4 * largest];
    }
    int previousRank = (rank + replicas - 1) % replicas;
    try {
      // Reduce-scatter: after step s, the chunk received holds s+2 replicas' terms.
      for (int s = 0; s < replicas - 1; s++) {
        int send = Math.floorMod(rank - s, replicas);
        int receive = Math.floorMod(rank - s - 1, replicas);
        exchange(data, send, receive, n, previousRank, true);
      }
      // All-gather: replica r owns the complete chunk r+1 and passes complete chunks on.
      for (int s = 0; s < replicas - 1; s++) {
        int send = Math.floorMod(rank + 1 - s, replicas);
        int receive = Math.floorMod(rank - s, replicas);
        exchange(data, send, receive, n, previousRank, false);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("ring all-reduce: replica " + rank + " of " + replicas + ": " + e.getMessage(), e);
    }
  }

  /** Sends chunk {@code send} to the successor while receiving chunk {@code receive}; adds or copies it. */
  private void exchange(float[] data, int send, int receive, int n, int previousRank, boolean add) throws IOException {
    int sendFrom = (int) chunkStart(send, n), sendCount = (int) chunkStart(send + 1, n) - sendFrom;
    int recvFrom = (int) chunkStart(receive, n), recvCount = (int) chunkStart(receive + 1, n) - recvFrom;
    MemorySegment.copy(data, sendFrom, MemorySegment.ofArray(sendBuffer), LE, 0, sendCount);
    byte[] outgoing = sendBuffer;
    Future<?> sent = sender.submit(() -> {
      out.write(outgoing, 0, 4 * sendCount);
      out.flush();
      return null;
    });
    readFully(in, receiveBuffer, 0, 4 * recvCount, cancelled, timeoutMillis, previousRank);
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (true) {
      try {
        sent.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
        break;
      } catch (TimeoutException e) {
        if (cancelled.getAsBoolean() || System.currentTimeMillis() > deadline) {
          sent.cancel(true);
          throw new IOException("replica " + (rank + 1) % replicas + " took nothing for " + timeoutMillis + " ms (or the task was killed)");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while sending to replica " + (rank + 1) % replicas, e);
      } catch (ExecutionException e) {
        throw new IOException("sending to replica " + (rank + 1) % replicas + " failed: " + e.getCause().getMessage(), e.getCause());
      }
    }
    bytesSent += 4L * sendCount;
    MemorySegment received = MemorySegment.ofArray(receiveBuffer);
    if (add) {
      for (int i = 0; i < recvCount; i++) {
        // The received partial sum first: chunk c accumulates g[c], g[c+1], ... in ring order.
        data[recvFrom + i] = received.getAtIndex(LE, i) + data[recvFrom + i];
      }
    } else {
      MemorySegment.copy(received, LE, 0, data, recvFrom, recvCount);
    }
  }

  private static void readFully(InputStream in, byte[] buffer, int offset, int length, BooleanSupplier cancelled, long timeoutMillis, int peer)
      throws IOException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    int done = 0;
    while (done < length) {
      int got;
      try {
        got = in.read(buffer, offset + done, length - done);
      } catch (SocketTimeoutException e) {
        if (cancelled.getAsBoolean()) {
          throw new IOException("the task was killed while waiting for replica " + peer);
        }
        if (System.currentTimeMillis() > deadline) {
          throw new IOException("replica " + peer + " sent nothing for " + timeoutMillis + " ms");
        }
        continue;
      }
      if (got < 0) {
        throw new IOException("replica " + peer + " closed its connection (its task failed or was killed)");
      }
      done += got;
      deadline = System.currentTimeMillis() + timeoutMillis;
    }
  }

  private static byte[] intBytes(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c != null) {
      try {
        c.close();
      } catch (Exception ignored) {
        // closing after a failure: the failure is what gets reported
      }
    }
  }

  @Override
  public void close() {
    if (sender != null) {
      sender.shutdownNow();
    }
    closeQuietly(previous);
    closeQuietly(next);
    closeQuietly(server);
  }
}
