package dev.mspx.api.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Where every batched slot lives in the one arena of a training step: offsets per image, so that for a
 * batch of N a slot sits at {@code N·offset} and spans {@code N·bytes}; non-overlap is preserved by the
 * scaling. Two slots share memory only when their live ranges over the training schedule do not meet.
 *
 * <p>Placement is greedy, largest first, at the lowest offset that clashes with no placed slot whose
 * live range meets its own (the classic interval-colouring heuristic; optimal layouts are NP-hard and
 * this one is within a few percent on these nets).
 */
public record ArenaLayout(long[] offsets, long bytesPerImage) {

  /** Offsets are multiples of this many bytes per image (so of it times N for a batch). */
  public static final long ALIGNMENT = 64;

  /** The per-image offset of {@code slot}, or -1 when it does not live in the arena. */
  public long offset(int slot) {
    return offsets[slot];
  }

  /** Arena bytes for a batch of {@code n} images. */
  public long bytes(int n) {
    return bytesPerImage * n;
  }

  static long align(long bytes) {
    return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }

  /**
   * Lays out {@code slots} given each one's live range {@code [first, last]} over the schedule
   * ({@code first > last}: never live, not placed).
   */
  static ArenaLayout lay(List<Slot> slots, int[] first, int[] last) {
    long[] offsets = new long[slots.size()];
    Arrays.fill(offsets, -1);
    List<Slot> placed = new ArrayList<>();
    List<Slot> order =
        slots.stream()
            .filter(s -> s.role().inArena() && first[s.id()] <= last[s.id()])
            .sorted(Comparator.comparingLong((Slot s) -> align(s.bytes())).reversed().thenComparingInt(Slot::id))
            .toList();
    long peak = 0;
    for (Slot s : order) {
      long size = align(s.bytes());
      List<long[]> busy = new ArrayList<>();
      for (Slot p : placed) {
        if (first[p.id()] <= last[s.id()] && first[s.id()] <= last[p.id()]) {
          busy.add(new long[] {offsets[p.id()], offsets[p.id()] + align(p.bytes())});
        }
      }
      busy.sort(Comparator.comparingLong(b -> b[0]));
      long at = 0;
      for (long[] b : busy) {
        if (at + size <= b[0]) {
          break;
        }
        at = Math.max(at, b[1]);
      }
      offsets[s.id()] = at;
      placed.add(s);
      peak = Math.max(peak, at + size);
    }
    return new ArenaLayout(offsets, peak);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ArenaLayout a && a.bytesPerImage == bytesPerImage && Arrays.equals(a.offsets, offsets);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(bytesPerImage) * 31 + Arrays.hashCode(offsets);
  }

  @Override
  public String toString() {
    return "ArenaLayout(" + bytesPerImage + " bytes per image)";
  }
}
