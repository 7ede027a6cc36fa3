package dev.mspx.api.plan;

import dev.mspx.api.Conv2dOp;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * One op of a plan: a call of the {@link dev.mspx.api.Backend} SPI on slot ids ({@code -1} where an
 * optional argument is absent). {@link #reads()} and {@link #writes()} drive liveness and the arena
 * layout.
 */
public sealed interface Step {

  int[] reads();

  int[] writes();

  private static int[] ids(int... ids) {
    return IntStream.of(ids).filter(i -> i >= 0).toArray();
  }

  private static int[] ids(List<Integer> list, int... more) {
    List<Integer> all = new ArrayList<>(list);
    for (int m : more) {
      all.add(m);
    }
    return all.stream().mapToInt(Integer::intValue).filter(i -> i >= 0).toArray();
  }

  record Conv(Conv2dOp op, int x, int w, int mask, int bias, int y) implements Step {
    public int[] reads() {
      return ids(x, w, mask, bias);
    }

    public int[] writes() {
      return ids(y);
    }
  }

  record ConvBackwardData(Conv2dOp op, int dy, int w, int mask, int dx) implements Step {
    public int[] reads() {
      return ids(dy, w, mask);
    }

    public int[] writes() {
      return ids(dx);
    }
  }

  record ConvBackwardFilter(Conv2dOp op, int x, int dy, int mask, int dw, int dbias) implements Step {
    public int[] reads() {
      return ids(x, dy, mask);
    }

    public int[] writes() {
      return ids(dw, dbias);
    }
  }

  record Gate(int pre, int out) implements Step {
    public int[] reads() {
      return ids(pre);
    }

    public int[] writes() {
      return ids(out);
    }
  }

  record GateBackward(int pre, int dout, int dpre) implements Step {
    public int[] reads() {
      return ids(pre, dout);
    }

    public int[] writes() {
      return ids(dpre);
    }
  }

  record Relu(int x, int y) implements Step {
    public int[] reads() {
      return ids(x);
    }

    public int[] writes() {
      return ids(y);
    }
  }

  record ReluBackward(int x, int dy, int dx) implements Step {
    public int[] reads() {
      return ids(x, dy);
    }

    public int[] writes() {
      return ids(dx);
    }
  }

  record Add(int a, int b, int out) implements Step {
    public int[] reads() {
      return ids(a, b);
    }

    public int[] writes() {
      return ids(out);
    }
  }

  record AddChannelBias(int x, int bias, int out) implements Step {
    public int[] reads() {
      return ids(x, bias);
    }

    public int[] writes() {
      return ids(out);
    }
  }

  record SumSpatial(int dy, int out) implements Step {
    public int[] reads() {
      return ids(dy);
    }

    public int[] writes() {
      return ids(out);
    }
  }

  record EmbeddingLookup(int table, int indices, int out) implements Step {
    public int[] reads() {
      return ids(table, indices);
    }

    public int[] writes() {
      return ids(out);
    }
  }

  record EmbeddingBackward(int indices, int dout, int dtable) implements Step {
    public int[] reads() {
      return ids(indices, dout);
    }

    public int[] writes() {
      return ids(dtable);
    }
  }

  record Matmul(int a, boolean transposeA, int b, boolean transposeB, int out) implements Step {
    public int[] reads() {
      return ids(a, b);
    }

    public int[] writes() {
      return ids(out);
    }
  }

  record Dequantize(int x, int levels, int out) implements Step {
    public int[] reads() {
      return ids(x);
    }

    public int[] writes() {
      return ids(out);
    }
  }

  record Concat(List<Integer> parts, int out) implements Step {
    public Concat {
      parts = List.copyOf(parts);
    }

    public int[] reads() {
      return ids(parts);
    }

    public int[] writes() {
      return ids(out);
    }
  }

  record Split(int in, List<Integer> parts) implements Step {
    public Split {
      parts = List.copyOf(parts);
    }

    public int[] reads() {
      return ids(in);
    }

    public int[] writes() {
      return ids(parts);
    }
  }

  record SpaceToDepth(int x, int block, int out) implements Step {
    public int[] reads() {
      return ids(x);
    }

    public int[] writes() {
      return ids(out);
    }
  }

  /** The inverse of {@link SpaceToDepth}: type-B heads put a patch's positions back in place. */
  record DepthToSpace(int x, int block, int out) implements Step {
    public int[] reads() {
      return ids(x);
    }

    public int[] writes() {
      return ids(out);
    }
  }

  record SoftmaxCrossEntropy(int logits, int targets, int nll) implements Step {
    public int[] reads() {
      return ids(logits, targets);
    }

    public int[] writes() {
      return ids(nll);
    }
  }

  record SoftmaxCrossEntropyBackward(int logits, int targets, int dnll, int dlogits) implements Step {
    public int[] reads() {
      return ids(logits, targets, dnll);
    }

    public int[] writes() {
      return ids(dlogits);
    }
  }

  record Sum(int x, int out) implements Step {
    public int[] reads() {
      return ids(x);
    }

    public int[] writes() {
      return ids(out);
    }
  }
}
