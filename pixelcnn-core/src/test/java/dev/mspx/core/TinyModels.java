package dev.mspx.core;

import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.DType;
import dev.mspx.api.Shape;
import dev.mspx.api.model.ConditioningKind;
import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import dev.mspx.api.plan.ParameterSpec;
import java.util.SplittableRandom;

/** Small specs and random data for the runtime tests. */
final class TinyModels {

  private TinyModels() {}

  static final ConditioningSpec LABEL = new ConditioningSpec("test.Label", ConditioningKind.CLASS_LABEL, 3);

  static ModelSpec rasterRgb() {
    return ModelSpec.builder().name("TinyRasterRgb").kind(ModelKind.RASTER).channels(3).levels(4).size(4)
        .gated(new GatedSpec(2, 6, 3)).addConditioning(LABEL).build();
  }

  static ModelSpec multiscaleRgb() {
    return ModelSpec.builder().name("TinyMultiscaleRgb").kind(ModelKind.MULTISCALE).channels(3).levels(4).size(4).base(2)
        .gated(new GatedSpec(2, 6, 3)).upscaling(UpscaleSpec.typeA(6, 1)).addConditioning(LABEL).build();
  }

  static ModelSpec multiscaleGrey() {
    return ModelSpec.multiscale("TinyMultiscaleGrey", 1, 8, 8, 2, new GatedSpec(3, 4, 3), UpscaleSpec.typeA(4, 2));
  }

  /** Type-B upscaling with 2×2 patches over 4×4 groups: four patches per group, generated place by place. */
  static ModelSpec typeBGrey() {
    return ModelSpec.multiscale("TinyTypeBGrey", 1, 8, 8, 4, new GatedSpec(2, 4, 3), new UpscaleSpec(4, 1, 2, dev.mspx.api.model.UpscaleType.B, 2));
  }

  /** RGB, conditional, type B with 2×2 patches and one head layer. */
  static ModelSpec typeBRgb() {
    return ModelSpec.builder().name("TinyTypeBRgb").kind(ModelKind.MULTISCALE).channels(3).levels(4).size(4).base(2)
        .gated(new GatedSpec(2, 6, 3)).upscaling(new UpscaleSpec(6, 1, 1, dev.mspx.api.model.UpscaleType.B, 2)).addConditioning(LABEL).build();
  }

  static ModelSpec rasterGrey() {
    return ModelSpec.raster("TinyRasterGrey", 1, 8, 5, new GatedSpec(3, 4, 3));
  }

  /** Overwrites every parameter with U(±gain·bound) (tables too), so nothing is zero or near-uniform. */
  static void randomise(Parameters p, long seed, double gain) {
    SplittableRandom r = new SplittableRandom(seed);
    for (ParameterSpec spec : p.plan().parameters()) {
      float[] v = new float[(int) p.plan().slot(spec.slot()).shape().elements()];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) ((r.nextDouble() * 2 - 1) * gain);
      }
      p.write(spec.name(), v);
    }
  }

  static int[][][][] images(ModelSpec spec, int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int c = spec.channels(), h = spec.size();
    int[][][][] img = new int[n][c][h][h];
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int i = 0; i < h; i++) {
          for (int j = 0; j < h; j++) {
            img[b][ch][i][j] = r.nextInt(spec.levels());
          }
        }
      }
    }
    return img;
  }

  static HostTensor toTensor(HostMemory host, int[][][][] img) {
    int n = img.length, c = img[0].length, h = img[0][0].length;
    HostTensor t = host.allocate(Shape.nchw(n, c, h, h), DType.UINT8, "images");
    int k = 0;
    for (int[][][] im : img) {
      for (int[][] ch : im) {
        for (int[] row : ch) {
          for (int v : row) {
            t.setUnsignedByte(k++, v);
          }
        }
      }
    }
    return t;
  }

  static HostTensor labels(HostMemory host, int... labels) {
    return host.allocate(Shape.of(labels.length), DType.INT32, "labels").copyFrom(labels);
  }
}
