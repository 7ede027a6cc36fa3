package dev.mspx.codegen;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.RasterModel;
import dev.mspx.api.model.SpecError;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.api.plan.PlanProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.TreeSet;
import javax.annotation.processing.Filer;
import javax.tools.FileObject;
import javax.tools.StandardLocation;
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

  static final String SERVICE_FILE = "META-INF/services/" + PlanProvider.class.getName();

  private ModelReader reader;
  /** Binary names of the providers written in this compilation. */
  private final Set<String> providers = new TreeSet<>();

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
        providers.add(PlanWriter.providerBinaryName(pkg, flatName(type, pkg)));
      } catch (IOException io) {
        processingEnv
            .getMessager()
            .printMessage(Diagnostic.Kind.ERROR, "[mspx] cannot write " + type.getSimpleName() + "Plan: " + io.getMessage(), type);
      }
    }
    if (round.processingOver() && !providers.isEmpty()) {
      writeServiceFile();
    }
    return true;
  }

  /**
   * Lists every plan's provider in {@code META-INF/services/dev.mspx.api.plan.PlanProvider}, keeping
   * the entries an earlier (incremental) compilation of the same output wrote.
   */
  private void writeServiceFile() {
    Filer filer = processingEnv.getFiler();
    Set<String> entries = new TreeSet<>();
    try {
      FileObject existing = filer.getResource(StandardLocation.CLASS_OUTPUT, "", SERVICE_FILE);
      try (BufferedReader in = new BufferedReader(new InputStreamReader(existing.openInputStream(), StandardCharsets.UTF_8))) {
        in.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).forEach(entries::add);
      }
    } catch (IOException | IllegalArgumentException none) {
      // no earlier file: this compilation writes the first one
    }
    entries.addAll(providers);
    try {
      FileObject file = filer.createResource(StandardLocation.CLASS_OUTPUT, "", SERVICE_FILE);
      try (Writer out = new OutputStreamWriter(file.openOutputStream(), StandardCharsets.UTF_8)) {
        out.write("# Written by dev.mspx.codegen.PlanProcessor: the compiled models of this output, found by name.\n");
        for (String entry : entries) {
          out.write(entry);
          out.write('\n');
        }
      }
    } catch (IOException io) {
      processingEnv.getMessager().printMessage(Diagnostic.Kind.ERROR, "[mspx] cannot write " + SERVICE_FILE + ": " + io.getMessage());
    }
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
