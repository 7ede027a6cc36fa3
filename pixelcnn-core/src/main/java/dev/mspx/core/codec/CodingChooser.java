package dev.mspx.core.codec;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Network;
import dev.mspx.core.GenerationOrder;
import dev.mspx.core.SubpixelChooser;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;

/**
 * The codec's {@link SubpixelChooser}: every sub-pixel the sampler's schedule reaches gets its
 * frequency table from its logits ({@link Frequencies}); the encoder codes the image's own level with it
 * and returns that level (so the schedule continues on the true image), the decoder reads the level
 * from the stream. Both walk the images of a batch in the same order (image-major, then the positions
 * as the sampler gives them), so their tables meet symbol by symbol.
 */
final class CodingChooser implements SubpixelChooser {

  private final int n;
  private final int channels;
  private final int levels;
  private final int size;
  private final Map<String, GenerationOrder.Piece> pieces = new HashMap<>();
  private final RangeEncoder encoder;
  private final RangeDecoder decoder;
  private final byte[] images;
  private final MessageDigest tables;
  private final float[] z;
  private final int[] freq;
  private final int[] start;
  private double idealBits;
  private double codedBits;

  private CodingChooser(ExecutionPlan plan, int n, RangeEncoder encoder, RangeDecoder decoder, byte[] images, MessageDigest tables) {
    ModelSpec spec = plan.spec();
    this.n = n;
    this.channels = spec.channels();
    this.levels = spec.levels();
    this.size = spec.size();
    for (GenerationOrder.Piece p : GenerationOrder.of(spec).pieces()) {
      pieces.put(plan.networks().get(p.network()).name(), p);
    }
    this.encoder = encoder;
    this.decoder = decoder;
    this.images = images;
    this.tables = tables;
    this.z = new float[levels];
    this.freq = new int[levels];
    this.start = new int[levels];
  }

  /**
   * Codes {@code images} ({@code uint8 [n, C, H, W]}) into {@code encoder}; when {@code tables} is not
   * null, every frequency table used is hashed into it.
   */
  static CodingChooser encoder(ExecutionPlan plan, int n, byte[] images, RangeEncoder encoder, MessageDigest tables) {
    return new CodingChooser(plan, n, encoder, null, images, tables);
  }

  static CodingChooser decoder(ExecutionPlan plan, int n, RangeDecoder decoder) {
    return new CodingChooser(plan, n, null, decoder, null, null);
  }

  @Override
  public byte[] choose(Network net, int channel, int[] positions, Logits logits) {
    GenerationOrder.Piece piece = pieces.get(net.name());
    int side = net.resolution();
    byte[] out = new byte[n * positions.length];
    for (int b = 0; b < n; b++) {
      for (int k = 0; k < positions.length; k++) {
        int q = positions[k];
        logits.subpixel(b, q, channel, z);
        Frequencies.of(z, levels, freq, start);
        if (tables != null) {
          for (int f : freq) {
            tables.update((byte) (f >>> 16));
            tables.update((byte) (f >>> 8));
            tables.update((byte) f);
          }
        }
        int level;
        if (encoder != null) {
          int y = piece.rowStart() + piece.stride() * (q / side), x = piece.colStart() + piece.stride() * (q % side);
          level = images[((b * channels + channel) * size + y) * size + x] & 0xFF;
          encoder.encode(start[level], freq[level]);
          idealBits += bits(level);
          codedBits -= Math.log(freq[level] / (double) Frequencies.TOTAL) / Math.log(2);
        } else {
          level = Frequencies.symbol(start, levels, decoder.target());
          decoder.consume(start[level], freq[level]);
        }
        out[b * positions.length + k] = (byte) level;
      }
    }
    return out;
  }

  /** {@code -log2 softmax(z)[level]} in double: what the model itself says the level costs. */
  private double bits(int level) {
    double m = Double.NEGATIVE_INFINITY;
    for (int l = 0; l < levels; l++) {
      m = Math.max(m, z[l]);
    }
    double sum = 0;
    for (int l = 0; l < levels; l++) {
      sum += Math.exp(z[l] - m);
    }
    return (m + Math.log(sum) - z[level]) / Math.log(2);
  }

  /** Bits the model's own softmax gives the coded levels (the encoder only). */
  double idealBits() {
    return idealBits;
  }

  /** Bits the quantised tables give them: what an ideal coder would spend on this stream. */
  double codedBits() {
    return codedBits;
  }
}
