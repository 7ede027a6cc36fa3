package dev.mspx.core;

import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.model.ConditioningKind;
import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.plan.ExecutionPlan;
import java.util.Arrays;

/**
 * What a conditional model is given for the images it samples: one value per image for each of the
 * model's conditioning inputs. An unconditional model takes {@link #none()}; giving a condition to a
 * model without that input, or none to a model that needs one, is refused with what the model takes.
 */
public final class Conditions {

  private static final Conditions NONE = new Conditions(null);

  /** Class labels per image, or null. */
  private final int[] labels;

  private Conditions(int[] labels) {
    this.labels = labels;
  }

  /** No condition: for an unconditional model. */
  public static Conditions none() {
    return NONE;
  }

  /** One class label per image (a single label applies to every image). */
  public static Conditions classLabels(int... labels) {
    if (labels.length == 0) {
      throw new IllegalArgumentException("classLabels needs at least one label");
    }
    return new Conditions(labels.clone());
  }

  /** Whether nothing is given. */
  public boolean isEmpty() {
    return labels == null;
  }

  /**
   * Refuses conditions that do not fit {@code plan} for {@code count} images: a missing input, an input
   * the model does not have, a label out of range, a count that is neither 1 nor {@code count}.
   */
  void check(ExecutionPlan plan, int count) {
    var specs = plan.spec().conditioning();
    String model = plan.spec().catalogName();
    if (specs.isEmpty()) {
      if (labels != null) {
        throw new IllegalArgumentException("model " + model + " is unconditional: it takes no class label");
      }
      return;
    }
    ConditioningSpec spec = specs.get(0);
    if (specs.size() > 1 || spec.kind() != ConditioningKind.CLASS_LABEL) {
      throw new IllegalArgumentException("model " + model + " is conditioned on " + specs + "; only class labels can be given here");
    }
    if (labels == null) {
      throw new IllegalArgumentException("model " + model + " is class-conditional (" + spec.width() + " classes): give a class label");
    }
    if (labels.length != 1 && labels.length != count) {
      throw new IllegalArgumentException(labels.length + " class labels for " + count + " images: give one, or one per image");
    }
    for (int l : labels) {
      if (l < 0 || l >= spec.width()) {
        throw new IllegalArgumentException("class " + l + " is out of range: model " + model + " has classes 0.." + (spec.width() - 1));
      }
    }
  }

  /** Sets the conditions of images {@code [from, from + n)} on a runtime of batch {@code n}. */
  void feed(PlanRuntime runtime, int from, int n, HostMemory host) {
    if (labels == null) {
      return;
    }
    try (HostTensor t = host.allocate(Shape.of(n), DType.INT32, "labels")) {
      for (int i = 0; i < n; i++) {
        t.setInt(i, labels.length == 1 ? labels[0] : labels[from + i]);
      }
      runtime.setConditioning(0, t);
    }
  }

  @Override
  public String toString() {
    return labels == null ? "none" : "class labels " + Arrays.toString(labels);
  }
}
