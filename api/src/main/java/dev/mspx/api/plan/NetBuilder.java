package dev.mspx.api.plan;

import dev.mspx.api.Conv2dOp;
import dev.mspx.api.DType;
import dev.mspx.api.Shape;
import dev.mspx.api.model.ConditioningKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Records the forward steps of one network and derives its backward steps by reverse-mode
 * differentiation, op by op. Parameters are created by the layer that uses them (each is used once,
 * so its gradient is written, never accumulated); activation gradients that receive several
 * contributions are summed out of place, so no gradient slot is ever overwritten while still needed.
 */
final class NetBuilder {

  /** One recorded forward op with the rule that sends its output gradient back to its inputs. */
  private interface Node {
    void backward(NetBuilder b);
  }

  private final PlanBuilder.Slots slots;
  private final String prefix;
  private final List<Step> steps = new ArrayList<>();
  private final List<Node> nodes = new ArrayList<>();
  private final List<Integer> parameters = new ArrayList<>();
  private final Map<Integer, Integer> grads = new HashMap<>();
  private final java.util.Set<Integer> constant = new java.util.HashSet<>();
  private final List<Step> backward = new ArrayList<>();

  NetBuilder(PlanBuilder.Slots slots, String prefix) {
    this.slots = slots;
    this.prefix = prefix;
  }

  List<Step> steps() {
    return steps;
  }

  int stepCount() {
    return steps.size();
  }

  List<Integer> parameters() {
    return parameters;
  }

  /** Marks a slot as data: no gradient flows into it. */
  void constant(int slot) {
    constant.add(slot);
  }

  private Shape shape(int slot) {
    return slots.get(slot).shape();
  }

  private int activation(String name, Shape shape) {
    return slots.add(prefix + name, SlotRole.ACTIVATION, DType.FLOAT32, shape);
  }

  private int parameter(String name, Shape shape, int mask, Init init) {
    int p = slots.add(prefix + name, SlotRole.PARAMETER, DType.FLOAT32, shape);
    int g = slots.add(prefix + name + ".grad", SlotRole.PARAMETER_GRADIENT, DType.FLOAT32, shape);
    slots.parameter(new ParameterSpec(prefix + name, p, g, mask, init));
    parameters.add(p);
    return p;
  }

  private int grad(int param) {
    return slots.parameterGradient(param);
  }

  // ---------------------------------------------------------------- forward ops

  /** {@code uint8 → [-1, 1]}: the network input; data, so no gradient. */
  int dequantize(String name, int image, int levels) {
    int out = activation(name, shape(image));
    steps.add(new Step.Dequantize(image, levels, out));
    constant.add(out);
    return out;
  }

  /**
   * A convolution with its own weight, optional mask and bias. The fan-in for the initial weights
   * counts only the taps inside the mask's bounding box.
   */
  int conv(String name, int x, int outChannels, int kh, int kw, MaskSpec mask) {
    int in = shape(x).dim(1);
    Conv2dOp op = Conv2dOp.of(in, outChannels, kh, kw);
    int maskSlot = -1;
    int fanIn = in * kh * kw;
    if (mask != null) {
      maskSlot = slots.mask(prefix + name + ".mask", mask);
      fanIn = Masks.fanIn(mask.values(), outChannels, in, kh, kw);
    }
    Init init = new Init.Uniform(fanIn);
    int w = parameter(name + ".weight", op.weightShape(), maskSlot, init);
    int b = parameter(name + ".bias", Shape.of(outChannels), -1, init);
    int y = activation(name, shape(x).with(1, outChannels));
    steps.add(new Step.Conv(op, x, w, maskSlot, b, y));
    final int m = maskSlot;
    nodes.add(
        nb -> {
          int dy = nb.gradientOf(y);
          if (dy < 0) {
            return;
          }
          nb.backward.add(new Step.ConvBackwardFilter(op, x, dy, m, grad(w), grad(b)));
          if (!nb.constant.contains(x)) {
            int dx = nb.newGradient(x);
            nb.backward.add(new Step.ConvBackwardData(op, dy, w, m, dx));
            nb.contribute(x, dx);
          }
        });
    return y;
  }

  int gate(String name, int pre) {
    Shape s = shape(pre);
    int out = activation(name, s.with(1, s.dim(1) / 2));
    steps.add(new Step.Gate(pre, out));
    nodes.add(
        nb -> {
          int dout = nb.gradientOf(out);
          if (dout < 0) {
            return;
          }
          int dpre = nb.newGradient(pre);
          nb.backward.add(new Step.GateBackward(pre, dout, dpre));
          nb.contribute(pre, dpre);
        });
    return out;
  }

  int relu(String name, int x) {
    int y = activation(name, shape(x));
    steps.add(new Step.Relu(x, y));
    nodes.add(
        nb -> {
          int dy = nb.gradientOf(y);
          if (dy < 0 || nb.constant.contains(x)) {
            return;
          }
          int dx = nb.newGradient(x);
          nb.backward.add(new Step.ReluBackward(x, dy, dx));
          nb.contribute(x, dx);
        });
    return y;
  }

  int add(String name, int a, int b) {
    int out = activation(name, shape(a));
    steps.add(new Step.Add(a, b, out));
    nodes.add(
        nb -> {
          int dout = nb.gradientOf(out);
          if (dout < 0) {
            return;
          }
          // The sum passes its gradient through unchanged to both addends.
          if (!nb.constant.contains(a)) {
            nb.contribute(a, dout);
          }
          if (!nb.constant.contains(b)) {
            nb.contribute(b, dout);
          }
        });
    return out;
  }

  int concat(String name, List<Integer> parts) {
    int channels = parts.stream().mapToInt(p -> shape(p).dim(1)).sum();
    int out = activation(name, shape(parts.get(0)).with(1, channels));
    steps.add(new Step.Concat(parts, out));
    nodes.add(
        nb -> {
          int dout = nb.gradientOf(out);
          if (dout < 0) {
            return;
          }
          List<Integer> dparts = new ArrayList<>();
          for (int p : parts) {
            dparts.add(nb.newGradient(p));
          }
          nb.backward.add(new Step.Split(dout, dparts));
          for (int i = 0; i < parts.size(); i++) {
            if (!nb.constant.contains(parts.get(i))) {
              nb.contribute(parts.get(i), dparts.get(i));
            }
          }
        });
    return out;
  }

  /** Space-to-depth of a data input (no gradient flows into data). */
  int spaceToDepth(String name, int x, int block) {
    if (!constant.contains(x)) {
      throw new IllegalArgumentException("spaceToDepth is recorded for data only, not for " + slots.get(x).name());
    }
    Shape s = shape(x);
    int out = activation(name, Shape.of(s.dim(0), s.dim(1) * block * block, s.dim(2) / block, s.dim(3) / block));
    steps.add(new Step.SpaceToDepth(x, block, out));
    constant.add(out);
    return out;
  }

  /** Depth-to-space; its gradient is the space-to-depth of the output's gradient. */
  int depthToSpace(String name, int x, int block) {
    Shape s = shape(x);
    int out = activation(name, Shape.of(s.dim(0), s.dim(1) / (block * block), s.dim(2) * block, s.dim(3) * block));
    steps.add(new Step.DepthToSpace(x, block, out));
    nodes.add(
        nb -> {
          int dout = nb.gradientOf(out);
          if (dout < 0 || nb.constant.contains(x)) {
            return;
          }
          int dx = nb.newGradient(x);
          nb.backward.add(new Step.SpaceToDepth(dout, block, dx));
          nb.contribute(x, dx);
        });
    return out;
  }

  /**
   * Adds the global conditioning bias of every declared conditioning to a pre-activation: a learned
   * row per class (zero at start) or a learned projection of the vector (zero at start).
   */
  int conditioned(String name, int x, PlanBuilder.Conditioning cond) {
    int out = x;
    int channels = shape(x).dim(1);
    for (PlanBuilder.Conditioning.Input in : cond.inputs()) {
      String n = name + "." + in.spec().simpleName();
      int bias = activation(n + ".bias", Shape.of(1, channels));
      if (in.spec().kind() == ConditioningKind.CLASS_LABEL) {
        int table = parameter(n + ".table", Shape.of(in.spec().width(), channels), -1, new Init.Zeros());
        steps.add(new Step.EmbeddingLookup(table, in.slot(), bias));
        nodes.add(
            nb -> {
              int db = nb.gradientOf(bias);
              if (db >= 0) {
                nb.backward.add(new Step.EmbeddingBackward(in.slot(), db, grad(table)));
              }
            });
      } else {
        int proj = parameter(n + ".projection", Shape.of(in.spec().width(), channels), -1, new Init.Zeros());
        steps.add(new Step.Matmul(in.slot(), false, proj, false, bias));
        nodes.add(
            nb -> {
              int db = nb.gradientOf(bias);
              if (db >= 0) {
                nb.backward.add(new Step.Matmul(in.slot(), true, db, false, grad(proj)));
              }
            });
      }
      int next = activation(n, shape(x));
      final int src = out;
      steps.add(new Step.AddChannelBias(src, bias, next));
      nodes.add(
          nb -> {
            int dout = nb.gradientOf(next);
            if (dout < 0) {
              return;
            }
            int db = nb.newGradient(bias);
            nb.backward.add(new Step.SumSpatial(dout, db));
            nb.contribute(bias, db);
            nb.contribute(src, dout);
          });
      out = next;
    }
    return out;
  }

  // ---------------------------------------------------------------- backward

  private int gradientOf(int slot) {
    return grads.getOrDefault(slot, -1);
  }

  private int newGradient(int slot) {
    return slots.add(slots.get(slot).name() + ".grad", SlotRole.GRADIENT, DType.FLOAT32, shape(slot));
  }

  /** Adds a contribution to a slot's gradient: the first is taken as is, later ones are summed. */
  private void contribute(int slot, int g) {
    Integer prev = grads.get(slot);
    if (prev == null) {
      grads.put(slot, g);
      return;
    }
    int sum = newGradient(slot);
    backward.add(new Step.Add(prev, g, sum));
    grads.put(slot, sum);
  }

  /** Seeds {@code d loss / d output} and walks the recorded ops in reverse. */
  List<Step> backward(int output, int seed) {
    grads.put(output, seed);
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).backward(this);
    }
    return backward;
  }
}
