package dev.mspx.backend.cpu;

import dev.mspx.api.HostTensor;
import dev.mspx.api.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The used taps of each weight mask, remembered per mask tensor: a plan passes the same constant
 * masks to every forward and backward call, and finding the taps scans the whole mask. An entry is
 * trusted only while the tensor still holds the same bytes (one {@link MemorySegment#mismatch}, a
 * vectorised compare), so a mask that is rewritten is simply analysed again.
 */
final class MaskAnalysis {

  /** A mask's values and the taps they use. */
  record Entry(float[] values, ConvTaps taps) {}

  /** Masks remembered at once; a plan has one per masked layer (about 30 for fashion28). */
  private static final int CAPACITY = 256;

  private final Map<Tensor, Entry> entries =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Tensor, MaskAnalysis.Entry> eldest) {
          return size() > CAPACITY;
        }
      };

  /** The values and used taps of {@code mask}, a {@code [out, in, kH, kW]} tensor. */
  Entry of(Tensor mask, int pairs, int kernelHeight, int kernelWidth) {
    MemorySegment seg = ((HostTensor) mask).segment();
    Entry e = entries.get(mask);
    if (e != null
        && MemorySegment.mismatch(MemorySegment.ofArray(e.values()), 0, seg.byteSize(), seg, 0, seg.byteSize())
            == -1) {
      return e;
    }
    float[] values = seg.toArray(ValueLayout.JAVA_FLOAT);
    e = new Entry(values, ConvTaps.used(values, pairs, kernelHeight, kernelWidth));
    entries.put(mask, e);
    return e;
  }

  void clear() {
    entries.clear();
  }
}
