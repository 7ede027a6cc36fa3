package dev.mspx.core;

import dev.mspx.api.plan.Network;

/**
 * What settles each sub-pixel that a {@link Sampler} reaches in its schedule: the one seam between the
 * schedule (which network runs when, which sub-pixels each evaluation settles, how they feed the next
 * evaluation) and what is done with the distribution there. Sampling draws from it with uniforms
 * ({@link Sampler#sample}); the lossless codec ({@code dev.mspx.core.codec}) encodes the known level
 * with a range coder, or decodes it from the bit stream. Because the codec runs the sampler's own
 * schedule, decoding costs what sampling costs: O(log N) network evaluations per image, every pixel of
 * a group settled from one evaluation.
 *
 * <p>The sampler calls {@link #choose} once per network evaluation and colour channel, in generation
 * order, with the positions that evaluation settles; a chooser must return exactly one level in
 * {@code 0..L-1} per image and position.
 */
public interface SubpixelChooser {

  /**
   * Settles channel {@code channel} of the sub-pixels at {@code positions} (indices {@code i·side + j}
   * of {@code net}'s grid, {@code side = net.resolution()}) in every image of the batch.
   *
   * @param logits the network's prediction, valid during this call only
   * @return the levels, image-major: {@code [image·positions.length + k]} for {@code positions[k]}
   */
  byte[] choose(Network net, int channel, int[] positions, Logits logits);

  /** A network's logits for one call of {@link #choose}. */
  interface Logits {

    /** The logits on the backend, {@code [N, C·L, side, side]}; null where they live on the host only (cached raster). */
    dev.mspx.api.Tensor tensor();

    /** Copies the L logits of channel {@code channel} of image {@code image} at {@code position} into {@code out}. */
    void subpixel(int image, int position, int channel, float[] out);
  }
}
