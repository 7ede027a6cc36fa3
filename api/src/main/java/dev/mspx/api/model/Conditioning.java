package dev.mspx.api.model;

/**
 * The conditioning SPI: a source of information a model is conditioned on (a class label, a text
 * encoding, an action, a spatial map). Implementations describe their input with {@link
 * ConditioningInput}, which the plan reads at compile time; the {@code conditioning} module and
 * downstream modules provide them, each with a Guice module.
 *
 * <p>How each kind enters the networks (DESIGN.md section 1): {@link ConditioningKind#CLASS_LABEL} and
 * {@link ConditioningKind#GLOBAL_VECTOR} become a learned bias on the pre-activations of every gated
 * layer and every trunk convolution (an embedding row, or a projection of the vector); heads take none.
 */
public interface Conditioning {

  /** What the plan needs to know: kind and width, read from {@link ConditioningInput}. */
  default ConditioningInput input() {
    ConditioningInput in = getClass().getAnnotation(ConditioningInput.class);
    if (in == null) {
      throw new IllegalStateException(
          getClass().getName() + " implements Conditioning but has no @ConditioningInput");
    }
    return in;
  }
}
