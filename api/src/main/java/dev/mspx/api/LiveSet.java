package dev.mspx.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The open tensors of one owner and their bytes: the accounting behind {@link
 * MemoryOwner#outstandingBytes()} and {@link MemoryLeakException}. Thread-safe. Public so that backends
 * outside this package keep the same books.
 */
public final class LiveSet {

  private final String owner;
  private final Map<Object, String> live = new LinkedHashMap<>();
  private long bytes;

  public LiveSet(String owner) {
    this.owner = owner;
  }

  public synchronized void add(Object handle, String description, long byteSize) {
    live.put(handle, description);
    bytes += byteSize;
  }

  public synchronized void remove(Object handle, long byteSize) {
    if (live.remove(handle) != null) {
      bytes -= byteSize;
    }
  }

  public synchronized long bytes() {
    return bytes;
  }

  public synchronized int count() {
    return live.size();
  }

  public synchronized List<Object> handles() {
    return new ArrayList<>(live.keySet());
  }

  /** A {@link MemoryLeakException} naming what is open now, or null when nothing is. */
  public synchronized MemoryLeakException leakReport() {
    if (live.isEmpty()) {
      return null;
    }
    return new MemoryLeakException(owner, new ArrayList<>(live.values()), bytes);
  }
}
