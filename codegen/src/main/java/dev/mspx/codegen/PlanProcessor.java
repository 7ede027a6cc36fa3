package dev.mspx.codegen;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.RasterModel;
import dev.mspx.api.model.SpecError;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanBuilder;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import javax.annotation.processing.AbstractProcessor;
import javax.annotation.processing.ProcessingEnvironment;
import javax.annotation.processing.RoundEnvironment;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.Element;
import javax.lang.model.element.PackageElement;
import javax.lang.model.element.TypeElement;
import javax.tools.Diagnostic;

/**
 * Compiles every {@link MultiscaleModel} and {@link RasterModel} declaration into {@code <Name>Plan}
 * beside it: read and validate ({@link ModelReader}), build ({@link PlanBuilder}), write ({@link
 * PlanWriter}). A broken declaration gets every one of its errors, on the annotation values to blame,
 * and no plan.
 */
public final class PlanProcessor extends AbstractProcessor {

  private ModelReader reader;

  @Override
  public synchronized void init(ProcessingEnvironment env) {
    super.init(env);
    reader = new ModelReader(env);
  }

  @Override
  public Set<String> getSupportedAnnotationTypes() {
    return Set.of(MultiscaleModel.class.getCanonicalName(), RasterModel.class.getCanonicalName());
  }

  @Override
  public SourceVersion getSupportedSourceVersion() {
    return SourceVersion.latestSupported();
  }

  @Override
  public boolean process(Set<? extends TypeElement> annotations, RoundEnvironment round) {
    Set<Element> declared = new LinkedHashSet<>(round.getElementsAnnotatedWith(MultiscaleModel.class));
    declared.addAll(round.getElementsAnnotatedWith(RasterModel.class));
    for (Element e : declared) {
      if (!(e instanceof TypeElement type)) {
        continue; // @Target(TYPE) already confines the annotations to types
      }
      Optional<ModelSpec> spec = reader.read(type);
      if (spec.isEmpty()) {
        continue;
      }
      ExecutionPlan plan;
      try {
        plan = PlanBuilder.build(spec.get());
      } catch (IllegalArgumentException failure) {
        processingEnv.getMessager().printMessage(Diagnostic.Kind.ERROR, failure.getMessage(), type);
        continue;
      }
      String pkg = ((PackageElement) packageOf(type)).getQualifiedName().toString();
      try {
        PlanWriter.write(pkg, flatName(type, pkg), plan).writeTo(processingEnv.getFiler());
      } catch (IOException io) {
        processingEnv
            .getMessager()
            .printMessage(Diagnostic.Kind.ERROR, "[mspx] cannot write " + type.getSimpleName() + "Plan: " + io.getMessage(), type);
      }
    }
    return true;
  }

  private static Element packageOf(Element e) {
    while (!(e instanceof PackageElement)) {
      e = e.getEnclosingElement();
    }
    return e;
  }

  /** {@code Outer.Inner} becomes {@code Outer_Inner}, so nested declarations get their own plan. */
  private static String flatName(TypeElement type, String pkg) {
    String qualified = type.getQualifiedName().toString();
    String local = pkg.isEmpty() ? qualified : qualified.substring(pkg.length() + 1);
    return local.replace('.', '_');
  }

  static String message(SpecError error, Object... args) {
    return error.format(args);
  }
}
