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

}
