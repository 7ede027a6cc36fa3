package dev.mspx.core.codec;

import java.io.ByteArrayOutputStream;

/**
 * A range coder (Subbotin's, with LZMA's carry handling): a 32-bit range, a 33-bit low whose carry is
 * propagated through a cached byte and a run of 0xFF bytes, renormalised a byte at a time whenever the
 * range falls below 2^24. Symbols are coded with frequencies summing to {@link Frequencies#TOTAL}; the
 * range of a symbol is {@code floor(range / TOTAL)·freq}, which is never 0 since {@code range ≥ 2^24}
 * and {@code freq ≥ 1}. {@link RangeDecoder} reads exactly the bytes this writes.
 */
final class RangeEncoder {

  private static final long TOP = 1L << 24;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private long low;
  private long range = 0xFFFFFFFFL;
  private int cache;
  private long cacheSize = 1;
  private long symbols;

  /** Codes the symbol whose range is {@code [start, start + freq)} of {@link Frequencies#TOTAL}. */
  void encode(int start, int freq) {
    long r = range >>> Frequencies.TOTAL_BITS;
    low += r * start;
    range = r * freq;
    while (range < TOP) {
      range <<= 8;
      shiftLow();
    }
    symbols++;
  }

  private void shiftLow() {
    if (low < 0xFF000000L || low > 0xFFFFFFFFL) {
      int carry = (int) (low >>> 32);
      int temp = cache;
      do {
        out.write((temp + carry) & 0xFF);
        temp = 0xFF;
      } while (--cacheSize != 0);
      cache = (int) ((low >>> 24) & 0xFF);
    }
    cacheSize++;
    low = (low & 0x00FFFFFFL) << 8;
  }

  long symbols() {
    return symbols;
  }

  /** Flushes the low end and returns every byte written; the encoder is spent. */
  byte[] finish() {
    for (int i = 0; i < 5; i++) {
      shiftLow();
    }
    return out.toByteArray();
  }
}
