package dev.mspx.core.codec;

/**
 * Reads what {@link RangeEncoder} wrote. A stream that runs out, starts with a byte other than 0 (the
 * encoder's first byte always is), or yields a value outside the table (possible only in the part of
 * the range the encoder never uses) is corrupt: {@link CodecException}.
 */
final class RangeDecoder {

  private static final long TOP = 1L << 24;

  private final byte[] in;
  private final String what;
  private int pos;
  private long range = 0xFFFFFFFFL;
  private long code;
  private long r;

  RangeDecoder(byte[] in, String what) {
    this.in = in;
    this.what = what;
    if (in.length < 5 || in[0] != 0) {
      throw new CodecException(what + ": the coded stream does not start as a range coder's does: the file is corrupt");
    }
    pos = 1;
    for (int i = 0; i < 4; i++) {
      code = (code << 8) | (in[pos++] & 0xFF);
    }
  }

  /** The value in {@code [0, TOTAL)} that selects the next symbol ({@link Frequencies#symbol}). */
  int target() {
    r = range >>> Frequencies.TOTAL_BITS;
    long v = code / r;
    if (v >= Frequencies.TOTAL) {
      throw new CodecException(what + ": the coded stream leaves the coder's range: the file is corrupt");
    }
    return (int) v;
  }

  /** Consumes the symbol of range {@code [start, start + freq)} after {@link #target}. */
  void consume(int start, int freq) {
    code -= r * start;
    range = r * freq;
    while (range < TOP) {
      if (pos >= in.length) {
        throw new CodecException(what + ": the coded stream ends early: the file is corrupt or truncated");
      }
      code = ((code << 8) | (in[pos++] & 0xFF)) & 0xFFFFFFFFL;
      range <<= 8;
    }
  }

  /** Whether every byte of the stream has been read (a complete decode reads exactly all of them). */
  boolean exhausted() {
    return pos == in.length;
  }
}
