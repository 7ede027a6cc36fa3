package dev.mspx.testing.masking;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.Conv2dOp;
import dev.mspx.api.Tensor;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.testing.ForwardingBackend;
import dev.mspx.testing.Tolerances;
import dev.mspx.testing.gen.ModelGens;
import dev.mspx.testing.gen.SpecBounds;
import org.junit.jupiter.api.Test;

/**
 * Broken backends, the other half of the mutants: the plan is right and the backend is wrong. The
 * agreement property must reject both; causality must reject the one that leaks.
 */
class MutantBackendTest {

  /** A convolution that ignores its mask: every masked layer sees the future (keras#23038's kind). */
  static final class MaskIgnoringBackend extends ForwardingBackend {
    MaskIgnoringBackend() {
      super(new CpuReferenceBackend("mask-ignoring"));
    }

    @Override
    public void conv2d(Conv2dOp op, Tensor x, Tensor w, Tensor mask, Tensor bias, Tensor y) {
      super.conv2d(op, x, w, null, bias, y);
    }
  }

  /** A gate whose output is off by a part in a thousand: causal, but not the reference's arithmetic. */
  static final class SloppyGateBackend extends ForwardingBackend {
    SloppyGateBackend() {
      super(new CpuReferenceBackend("sloppy-gate"));
    }

    @Override
    public void gate(Tensor pre, Tensor out) {
      super.gate(pre, out);
      super.scale(out, 1.001, out);
    }
  }

  private static final SpecBounds BOUNDS = SpecBounds.tiny();

  @Test
  void aConvolutionThatIgnoresItsMaskIsRejectedByCausalityAndAgreement() {
    MaskingProperties p = new MaskingProperties(MaskIgnoringBackend::new);
    String causality = MaskingCheck.expectFailure("causality on a mask-ignoring backend",
        MaskingCases.of(ModelGens.specs(BOUNDS)), 40, p::causality);
    String agreement = MaskingCheck.expectFailure("agreement of a mask-ignoring backend",
        MaskingCases.of(ModelGens.specs(BOUNDS)), 20, c -> p.agreement(c, CpuReferenceBackend::new, Tolerances.float32()));
    System.out.println("killed: " + causality + "\nkilled: " + agreement);
    assertTrue(agreement.contains("Conv"), agreement);
  }

  @Test
  void aSloppyGateIsRejectedByAgreement() {
    MaskingProperties p = new MaskingProperties(SloppyGateBackend::new);
    String agreement = MaskingCheck.expectFailure("agreement of a sloppy gate",
        MaskingCases.of(ModelGens.specs(BOUNDS)), 20, c -> p.agreement(c, CpuReferenceBackend::new, Tolerances.float32()));
    System.out.println("killed: " + agreement);
    assertTrue(agreement.contains("Gate"), agreement);
    // It is causal: scaling a gate's output moves nothing it does not depend on.
    MaskingCheck.forAll("causality on a sloppy gate", MaskingCases.of(ModelGens.specs(BOUNDS)), 20, p::causality);
  }

  /**
   * A convolution whose last bits changed once (as a kernel whose rounding changes with the JIT tier
   * or thread timing would): causal, yet a bit-for-bit check sees a change that a second run does not
   * reproduce. The check itself passes on the retry, so the kit must fail on the count instead.
   */
  static final class FlickeringBackend extends ForwardingBackend {
    /** Shared by every instance, like the JIT's state: a fresh backend does not start the pattern over. */
    private static final java.util.concurrent.atomic.AtomicLong CALLS = new java.util.concurrent.atomic.AtomicLong();

    FlickeringBackend() {
      super(new CpuReferenceBackend("flickering"));
    }

    @Override
    public void conv2d(Conv2dOp op, Tensor x, Tensor w, Tensor mask, Tensor bias, Tensor y) {
      super.conv2d(op, x, w, mask, bias, y);
      if (CALLS.getAndIncrement() == 5) { // once: the retry of the check it breaks passes
        super.scale(y, 1.0000003, y);
      }
    }
  }

  @Test
  void aBackendWhoseBitsFlickerFailsTheSuite() {
    MaskingProperties p = new MaskingProperties(FlickeringBackend::new);
    MaskingCheck.forAll("causality on a flickering backend", MaskingCases.of(ModelGens.specs(BOUNDS)), 20, p::causality);
    assertTrue(p.stats().irreproducible() > 0, "the flicker was seen: " + p.stats());
    AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
        () -> MaskingPropertySuite.assertDeterministic("causality on a flickering backend", p.stats()));
    assertTrue(e.getMessage().contains("gives different bits for the same inputs"), e.getMessage());
  }
}
