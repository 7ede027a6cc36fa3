package dev.mspx.api.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * One network of a plan: the base (or raster) gated PixelCNN, or the net of one pixel group of one
 * upscaling. Its forward pass is {@link #trunk()} then {@link #head()}: the trunk reads only {@link
 * #context()} (earlier groups), the head also reads {@link #own()}, the sub-pixels it predicts, under
 * channel masks — so a sampler evaluates the trunk once and the head once per colour channel. The base
 * net has no trunk: all of it reads its own image.
 *
 * @param scale the upscaling index k (r = base·2^k → 2r), or -1 for the base/raster net
 * @param group the pixel group 2..4, or 0 for the base/raster net
 * @param resolution the side r of the images this net reads and predicts
 * @param context uint8 [N, C·(g-1), r, r] for a group net; -1 for the base net
 * @param own uint8 [N, C, r, r]: the sub-pixels this net predicts (its targets in training)
 * @param loss the steps from logits to the summed nll ({@code scalar [1]}, in nats)
 * @param dnll the gradient slot of the per-sub-pixel nll that the trainer fills before {@link #backward()}
 */
public record Network(
    String name,
    int scale,
    int group,
    int resolution,
    int context,
    int own,
    int logits,
    int nll,
    int lossSum,
    int dnll,
    List<Step> trunk,
    List<Step> head,
    List<Step> loss,
    List<Step> backward,
    List<Integer> parameters) {

  public Network {
    trunk = List.copyOf(trunk);
    head = List.copyOf(head);
    loss = List.copyOf(loss);
    backward = List.copyOf(backward);
    parameters = List.copyOf(parameters);
  }

  public boolean isGroupNet() {
    return group > 0;
  }

  /** Trunk then head: the logits from context and own sub-pixels. */
  public List<Step> forward() {
    List<Step> all = new ArrayList<>(trunk);
    all.addAll(head);
    return all;
  }
}
