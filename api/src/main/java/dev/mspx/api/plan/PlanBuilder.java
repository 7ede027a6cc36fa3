package dev.mspx.api.plan;

import dev.mspx.api.DType;
import dev.mspx.api.Shape;
import dev.mspx.api.model.ConditioningKind;
import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import dev.mspx.api.model.UpscaleType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the {@link ExecutionPlan} of a {@link ModelSpec}: an ordinary library call, run by the
 * annotation processor at compile time and by tests and tools at run time.
 *
 * <p>The networks follow DESIGN.md sections 1 and 6 and the PyTorch peer layer for layer: gated layers
 * with vertical and horizontal stacks by masks, a masked output head; group nets with a 3×3 stem,
 * residual blocks and a channel-masked 1×1 head over {@code [ReLU(trunk), own sub-pixels]}.
 */
public final class PlanBuilder {

  private PlanBuilder() {}

  /** The plan of {@code spec}. */
  public static ExecutionPlan build(ModelSpec spec) {
    Slots slots = new Slots();
    int c = spec.channels();
    int image = slots.add("image", SlotRole.INPUT, DType.UINT8, Shape.nchw(1, c, spec.size(), spec.size()));
    List<Conditioning.Input> inputs = new ArrayList<>();
    for (ConditioningSpec cs : spec.conditioning()) {
      int slot =
          cs.kind() == ConditioningKind.CLASS_LABEL
              ? slots.add("cond." + cs.simpleName(), SlotRole.INPUT, DType.INT32, Shape.of(1))
              : slots.add("cond." + cs.simpleName(), SlotRole.INPUT, DType.FLOAT32, Shape.of(1, cs.width()));
      inputs.add(new Conditioning.Input(cs, slot));
    }
    Conditioning cond = new Conditioning(inputs);
    List<Step> prepare = new ArrayList<>();
    List<Network> networks = new ArrayList<>();
    if (spec.kind() == ModelKind.RASTER) {
      networks.add(gatedNetwork(slots, spec, "raster", image, spec.size(), cond));
    } else {
      // Pyramid: x_{2r} → space-to-depth → G1..G4 at r, G1 = x_r; from the full image down to the base.
      UpscaleSpec up = spec.upscaling().orElseThrow();
      int s = spec.upscalings();
      int[][] groups = new int[s][];
      int current = image;
      for (int k = s - 1; k >= 0; k--) {
        int r = spec.base() << k;
        int depth = slots.add("scale" + k + ".s2d", SlotRole.INPUT, DType.UINT8, Shape.nchw(1, 4 * c, r, r));
        prepare.add(new Step.SpaceToDepth(current, 2, depth));
        groups[k] = new int[4];
        List<Integer> parts = new ArrayList<>();
        for (int g = 0; g < 4; g++) {
          groups[k][g] = slots.add("scale" + k + ".G" + (g + 1), SlotRole.INPUT, DType.UINT8, Shape.nchw(1, c, r, r));
          parts.add(groups[k][g]);
        }
        prepare.add(new Step.Split(depth, parts));
        current = groups[k][0];
      }
      networks.add(gatedNetwork(slots, spec, "base", current, spec.base(), cond));
      for (int k = 0; k < s; k++) {
        int r = spec.base() << k;
        for (int g = 2; g <= 4; g++) {
          int context;
          if (g == 2) {
            context = groups[k][0];
          } else {
            context =
                slots.add("scale" + k + ".g" + g + ".context", SlotRole.INPUT, DType.UINT8, Shape.nchw(1, c * (g - 1), r, r));
            List<Integer> earlier = new ArrayList<>();
            for (int e = 0; e < g - 1; e++) {
              earlier.add(groups[k][e]);
            }
            prepare.add(new Step.Concat(earlier, context));
          }
          networks.add(groupNetwork(slots, spec, up, k, g, r, context, groups[k][g - 1], cond));
        }
      }
    }
    return ExecutionPlan.of(spec, slots.all(), slots.parameters(), slots.masks(), image, inputs.stream().map(Conditioning.Input::slot).toList(), prepare, networks);
  }

  /** The gated PixelCNN: the base net of a multiscale model or the whole raster model. */
  private static Network gatedNetwork(Slots slots, ModelSpec spec, String name, int image, int side, Conditioning cond) {
    GatedSpec g = spec.gated();
    int c = spec.channels(), f = g.filters(), k = g.kernel(), levels = spec.levels();
    NetBuilder b = new NetBuilder(slots, name + ".");
    int x = b.dequantize("input", image, levels);
    int v = x, h = x;
    for (int i = 0; i < g.layers(); i++) {
      boolean first = i == 0;
      String l = "layer" + i + ".";
      int in = first ? c : f;
      int vConv = b.conv(l + "vertical", v, 2 * f, k, k, new MaskSpec.Vertical(2 * f, in, k, first));
      int vPre = b.conditioned(l + "vertical.cond", vConv, cond);
      int hConv = b.conv(l + "horizontal", h, 2 * f, k, k, new MaskSpec.Horizontal(2 * f, in, k, first, c));
      // The vertical features only ever see rows above: they feed the horizontal stack unmasked.
      int vToH = b.conv(l + "vertical_to_horizontal", vPre, 2 * f, 1, 1, null);
      int hSum = b.add(l + "horizontal.sum", hConv, vToH);
      int hPre = b.conditioned(l + "horizontal.cond", hSum, cond);
      int vOut = b.gate(l + "vertical.gate", vPre);
      int hGate = b.gate(l + "horizontal.gate", hPre);
      int hNew = b.conv(l + "horizontal.out", hGate, f, 1, 1, new MaskSpec.Colour(f, f, c, false));
      h = first ? hNew : b.add(l + "residual", h, hNew);
      v = vOut;
    }
    int r1 = b.relu("out.relu1", h);
    int o1 = b.conv("out.hidden", r1, f, 1, 1, new MaskSpec.Colour(f, f, c, false));
    int r2 = b.relu("out.relu2", o1);
    int logits = b.conv("out.logits", r2, c * levels, 1, 1, new MaskSpec.Colour(c * levels, f, c, false));
    return finish(slots, b, name, -1, 0, side, -1, image, logits, 0);
  }

  /** The net of pixel group {@code g} of upscaling {@code k}: trunk over the context, masked head. */
  private static Network groupNetwork(
      Slots slots, ModelSpec spec, UpscaleSpec up, int k, int g, int r, int context, int own, Conditioning cond) {
    int c = spec.channels(), f = up.filters(), levels = spec.levels();
    String name = "up" + k + ".g" + g;
    NetBuilder b = new NetBuilder(slots, name + ".");
    int ctx = b.dequantize("context", context, levels);
    int h = b.conditioned("stem.cond", b.conv("stem", ctx, f, 3, 3, null), cond);
    for (int i = 0; i < up.blocks(); i++) {
      String blk = "block" + i + ".";
      int t = b.relu(blk + "relu1", h);
      t = b.conditioned(blk + "conv1.cond", b.conv(blk + "conv1", t, f, 3, 3, null), cond);
      t = b.relu(blk + "relu2", t);
      t = b.conditioned(blk + "conv2.cond", b.conv(blk + "conv2", t, f, 3, 3, null), cond);
      h = b.add(blk + "residual", h, t);
    }
    int trunkSteps = b.stepCount();
    int features = b.relu("head.relu", h);
    int ownIn = b.dequantize("own", own, levels);
    int layers = up.headLayers();
    int x;
    if (up.type() == UpscaleType.B) {
      x = patchHead(b, up, features, ownIn, c, f, levels);
    } else if (layers == 1) {
      int in = b.concat("head.input", List.of(features, ownIn));
      x = b.conv("head.logits", in, c * levels, 1, 1, new MaskSpec.HeadInput(c * levels, f, c));
    } else {
      int in = b.concat("head.input", List.of(features, ownIn));
      x = b.relu("head.relu0", b.conv("head.hidden0", in, f, 1, 1, new MaskSpec.HeadInput(f, f, c)));
      for (int i = 1; i < layers - 1; i++) {
        x = b.relu("head.relu" + i, b.conv("head.hidden" + i, x, f, 1, 1, new MaskSpec.Colour(f, f, c, false)));
      }
      x = b.conv("head.logits", x, c * levels, 1, 1, new MaskSpec.Colour(c * levels, f, c, false));
    }
    return finish(slots, b, name, k, g, r, context, own, x, trunkSteps);
  }

  /**
   * The head of a type-B group net (Reed et al. 2017: a shallow PixelCNN over the M×M patches of the
   * group, raster order inside a patch, all patches in parallel). Its first layer is the sum of a 1×1
   * over the trunk features (they see only earlier groups: no mask) and, for the own sub-pixels, a
   * patch-masked 1×1 between space-to-depth layouts of block M, put back in place by depth-to-space: the
   * pixel at (u, v) of its patch sees every channel of the patch's earlier pixels and its own channels
   * {@code < c}, nothing of a later pixel or another patch. The layers after it are per pixel, colour
   * masked as in type A. With M = 1 it computes what type A's head does (the concat's 1×1 split in two).
   */
  private static int patchHead(NetBuilder b, UpscaleSpec up, int features, int ownIn, int c, int f, int levels) {
    int m = up.patch(), layers = up.headLayers();
    int width = layers == 1 ? c * levels : f;
    String first = layers == 1 ? "head.logits" : "head.hidden0";
    int fromFeatures = b.conv(first + ".features", features, width, 1, 1, null);
    int patches = b.spaceToDepth("head.own.patches", ownIn, m);
    int fromOwn = b.depthToSpace(first + ".own.unpatch", b.conv(first + ".own", patches, width * m * m, 1, 1, new MaskSpec.Patch(width, c, m)), m);
    int x = b.add(first, fromFeatures, fromOwn);
    if (layers == 1) {
      return x;
    }
    x = b.relu("head.relu0", x);
    for (int i = 1; i < layers - 1; i++) {
      x = b.relu("head.relu" + i, b.conv("head.hidden" + i, x, f, 1, 1, new MaskSpec.Colour(f, f, c, false)));
    }
    return b.conv("head.logits", x, c * levels, 1, 1, new MaskSpec.Colour(c * levels, f, c, false));
  }

  /** Adds the loss, derives the backward pass, and splits forward into trunk and head. */
  private static Network finish(
      Slots slots, NetBuilder b, String name, int scale, int group, int r, int context, int own, int logits, int trunkSteps) {
    Shape target = slots.get(own).shape();
    int nll = slots.add(name + ".nll", SlotRole.ACTIVATION, DType.FLOAT32, target);
    int lossSum = slots.add(name + ".loss", SlotRole.SCALAR, DType.FLOAT32, Shape.of(1));
    int dnll = slots.add(name + ".nll.grad", SlotRole.GRADIENT, DType.FLOAT32, target);
    int dlogits = slots.add(name + ".logits.grad", SlotRole.GRADIENT, DType.FLOAT32, slots.get(logits).shape());
    List<Step> loss = List.of(new Step.SoftmaxCrossEntropy(logits, own, nll), new Step.Sum(nll, lossSum));
    List<Step> backward = new ArrayList<>();
    backward.add(new Step.SoftmaxCrossEntropyBackward(logits, own, dnll, dlogits));
    backward.addAll(b.backward(logits, dlogits));
    List<Step> forward = b.steps();
    List<Step> trunk = new ArrayList<>(forward.subList(0, trunkSteps));
    List<Step> head = new ArrayList<>(forward.subList(trunkSteps, forward.size()));
    dropDeadSteps(trunk, head, loss, backward);
    return new Network(name, scale, group, r, context, own, logits, nll, lossSum, dnll, trunk, head, loss, backward, b.parameters());
  }

  /**
   * Removes forward steps whose results nothing reads (the last layer's vertical gate), until none is
   * left: they would cost time and arena and change nothing.
   */
  private static void dropDeadSteps(List<Step> trunk, List<Step> head, List<Step> loss, List<Step> backward) {
    boolean changed = true;
    while (changed) {
      java.util.Set<Integer> read = new java.util.HashSet<>();
      for (List<Step> part : List.of(trunk, head, loss, backward)) {
        for (Step st : part) {
          for (int id : st.reads()) {
            read.add(id);
          }
        }
      }
      changed = false;
      for (List<Step> part : List.of(trunk, head)) {
        changed |= part.removeIf(st -> java.util.Arrays.stream(st.writes()).noneMatch(read::contains));
      }
    }
  }

  /** The conditioning inputs of a plan: each declared conditioning with its input slot. */
  record Conditioning(List<Input> inputs) {
    record Input(ConditioningSpec spec, int slot) {}
  }

  /** The slot table under construction. */
  static final class Slots {
    private final List<Slot> all = new ArrayList<>();
    private final List<ParameterSpec> parameters = new ArrayList<>();
    private final Map<Integer, Integer> gradients = new HashMap<>();
    private final Map<Integer, MaskSpec> masks = new LinkedHashMap<>();

    int add(String name, SlotRole role, DType dtype, Shape shape) {
      int id = all.size();
      all.add(new Slot(id, name, role, dtype, shape));
      return id;
    }

    Slot get(int id) {
      return all.get(id);
    }

    int mask(String name, MaskSpec mask) {
      int id = add(name, SlotRole.MASK, DType.FLOAT32, mask.shape());
      masks.put(id, mask);
      return id;
    }

    void parameter(ParameterSpec p) {
      parameters.add(p);
      gradients.put(p.slot(), p.gradient());
    }

    int parameterGradient(int parameter) {
      return gradients.get(parameter);
    }

    List<Slot> all() {
      return all;
    }

    List<ParameterSpec> parameters() {
      return parameters;
    }

    Map<Integer, MaskSpec> masks() {
      return masks;
    }
  }
}
