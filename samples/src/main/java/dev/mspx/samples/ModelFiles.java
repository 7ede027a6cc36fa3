package dev.mspx.samples;

import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.CheckpointException;
import dev.mspx.core.Model;
import dev.mspx.core.ModelCatalog;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Models trained on crops, and models used at another size than they were trained at.
 *
 * <p>A multiscale model's networks are convolutional and share no parameters, so they can be trained
 * on crops and used on whole images: {@code mspx train --config speed512 --crop 64} trains the plan
 * of {@code speed512} built at the crop size — the same base net and upscaling nets (identical
 * parameter shapes), fewer upscalings ({@code 8 → 16 → 32 → 64}) — on 64×64 crops, and records
 * {@value #CROP} in the checkpoint. Used at size S, the model is the declaration's plan built at S, its
 * parameters taken <b>stage by stage from the top</b>: the last upscaling (to S) gets the crop plan's
 * last (to 64), the one before it the one before, and so on. That is the match the pyramid's
 * subsampling gives: the crop plan's last upscaling fills in full-resolution pixels, and so does the
 * big plan's. Stages the crop plan does not have (the big plan's lowest upscalings, which work on
 * the whole image subsampled 8, 16 or 32 times) take its lowest upscaling, and the base net is the
 * crop plan's: natural images look alike across scales, but this is an assumption, not something
 * the crops taught the model, and sampling whole images from scratch relies on it. Super-resolution
 * ({@code mspx upscale}) uses only the top stages, which are exactly the trained ones when the input
 * is at the crop's resolution.
 */
final class ModelFiles {

  /** Checkpoint metadata: the crop size a model was trained at (absent: whole images). */
  static final String CROP = "mspx.crop";

  private static final Pattern UPSCALER = Pattern.compile("up(\\d+)\\.(.*)");

  private ModelFiles() {}

  /** The plan of {@code declared} built at {@code size}: same networks and widths, as many upscalings as the size needs. */
  static ExecutionPlan atSize(ModelSpec declared, int size) {
    return atSize(declared, size, declared.base());
  }

  /** As {@link #atSize(ModelSpec, int)} with another base size (the input's, for super-resolution). */
  static ExecutionPlan atSize(ModelSpec declared, int size, int base) {
    if (declared.kind() != ModelKind.MULTISCALE) {
      throw new IllegalArgumentException("model " + declared.catalogName() + " is a raster model: only multiscale models are built at other sizes");
    }
    if (size == declared.size() && base == declared.base()) {
      return PlanBuilder.build(declared);
    }
    int s = size;
    while (s > base && s % 2 == 0) {
      s /= 2;
    }
    if (s != base || size < base) {
      throw new IllegalArgumentException("size " + size + " is not " + base + "·2^k: model " + declared.catalogName()
          + " grows from a " + base + "×" + base + " base by doubling (e.g. " + base * 8 + ", " + base * 64 + ")");
    }
    return PlanBuilder.build(ModelSpec.builder().from(declared).size(size).base(base).build());
  }

  /** The plan a checkpoint was trained with: its declaration's, at its crop size when it records one. */
  static ExecutionPlan trainedPlan(Checkpoint cp, Path file) {
    String crop = cp.metadata().get(CROP);
    if (crop == null) {
      return null;
    }
    ModelSpec declared = declared(cp, file);
    return atSize(declared, Integer.parseInt(crop));
  }

  /** The declaration of the checkpoint's model from the catalog, refused naming the model when it is not there. */
  static ModelSpec declared(Checkpoint cp, Path file) {
    return ModelCatalog.load().find(cp.modelName())
        .orElseThrow(() -> new CheckpointException(file + " was made for model '" + cp.modelName()
            + "', which is not on the class path: put the jar that declares it on MSPX_CLASSPATH"))
        .spec();
  }

  /** Opens a checkpoint as it was trained (whole images, or crops). */
  static Model load(Path file, BackendModule module) {
    Checkpoint cp = Checkpoint.read(file);
    ExecutionPlan plan = trainedPlan(cp, file);
    return plan == null ? Model.load(file, module) : Model.load(file, plan, module);
  }

  /** The crop a checkpoint was trained on, or 0 for whole images. */
  static int crop(Checkpoint cp) {
    String crop = cp.metadata().get(CROP);
    return crop == null ? 0 : Integer.parseInt(crop);
  }

  /**
   * A checkpoint's model at {@code size} (and {@code base}), parameters taken stage by stage from the
   * top (see the class comment). Only a model trained on crops can be used at another size: one
   * trained on whole images (Fashion-MNIST's centred clothes) has no stage that knows a larger
   * picture.
   */
  static Model load(Path file, BackendModule module, int size, int base) {
    Checkpoint cp = Checkpoint.read(file);
    ModelSpec declared = declared(cp, file);
    int trainedSize = crop(cp) > 0 ? crop(cp) : declared.size();
    if (size == trainedSize && base == declared.base()) {
      return load(file, module);
    }
    if (crop(cp) == 0) {
      throw new IllegalArgumentException(file + " is model " + cp.modelName() + " trained on whole " + declared.size() + "×" + declared.size()
          + " images: it is sampled at that size only (a model trained on crops, mspx train --crop, can be used at other sizes)");
    }
    ExecutionPlan trained = trainedPlan(cp, file);
    cp.checkFits(trained, file);
    ExecutionPlan plan = atSize(declared, size, base);
    int trainedUp = trained.spec().upscalings(), up = plan.spec().upscalings();
    Map<String, float[]> values = new HashMap<>();
    for (ParameterSpec p : plan.parameters()) {
      String source = sourceName(p.name(), up, trainedUp);
      float[] v = cp.tensors().get(source);
      if (v == null) {
        throw new CheckpointException(file + " has no parameter " + source + " for " + p.name());
      }
      values.put(p.name(), v);
    }
    Model model = Model.create(plan, module, 0);
    try {
      values.forEach(model.parameters()::write);
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * The trained parameter that parameter {@code name} of a plan with {@code upscalings} stages takes,
   * from a plan with {@code trainedUpscalings}: stages matched from the top, missing low stages from
   * the lowest trained one; the base net and everything else by name.
   */
  static String sourceName(String name, int upscalings, int trainedUpscalings) {
    Matcher m = UPSCALER.matcher(name);
    if (!m.matches()) {
      return name;
    }
    int stage = Integer.parseInt(m.group(1)) - (upscalings - trainedUpscalings);
    return "up" + Math.max(0, stage) + "." + m.group(2);
  }
}
