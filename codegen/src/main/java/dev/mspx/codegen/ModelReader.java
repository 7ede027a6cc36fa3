package dev.mspx.codegen;

import dev.mspx.api.model.ConditioningInput;
import dev.mspx.api.model.ConditioningKind;
import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ImmutableModelSpec;
import dev.mspx.api.model.InvalidModelException;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.RasterModel;
import dev.mspx.api.model.SpecError;
import dev.mspx.api.model.SpecViolation;
import dev.mspx.api.model.UpscaleSpec;
import dev.mspx.api.model.UpscaleType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.annotation.processing.Messager;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.AnnotationMirror;
import javax.lang.model.element.AnnotationValue;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.NestingKind;
import javax.lang.model.element.TypeElement;
import javax.lang.model.element.VariableElement;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.util.Elements;
import javax.lang.model.util.Types;
import javax.tools.Diagnostic;

/**
 * Stage one: reads a declaration's annotation into a {@link ModelSpec}. Every broken rule is reported
 * on the annotated type, the annotation, and — where one attribute is to blame — that attribute's
 * value, so that the compiler points at the line that needs changing. Reading goes on after an error
 * so that one compilation reports them all.
 */
final class ModelReader {

  private static final String CONDITIONING = "dev.mspx.api.model.Conditioning";

  private final Messager messager;
  private final Elements elements;
  private final Types types;

  ModelReader(ProcessingEnvironment env) {
    this.messager = env.getMessager();
    this.elements = env.getElementUtils();
    this.types = env.getTypeUtils();
  }

  /** The spec of {@code type}, or empty when the declaration has errors (all of them reported). */
  Optional<ModelSpec> read(TypeElement type) {
    AnnotationMirror multiscale = mirror(type, MultiscaleModel.class.getCanonicalName());
    AnnotationMirror raster = mirror(type, RasterModel.class.getCanonicalName());
    boolean ok = true;
    if (multiscale != null && raster != null) {
      error(SpecViolation.of(SpecError.TWO_DECLARATIONS, "", type.getSimpleName()), type, raster, null);
      return Optional.empty();
    }
    AnnotationMirror model = multiscale != null ? multiscale : raster;
    if (type.getNestingKind() == NestingKind.LOCAL
        || type.getNestingKind() == NestingKind.ANONYMOUS
        || (type.getNestingKind() == NestingKind.MEMBER
            && type.getKind() == ElementKind.CLASS
            && !type.getModifiers().contains(Modifier.STATIC))) {
      error(SpecViolation.of(SpecError.NOT_ACCESSIBLE, "", type.getQualifiedName()), type, model, null);
      ok = false;
    }
    Values v = new Values(model);
    ImmutableModelSpec.Builder b =
        ModelSpec.builder()
            .name(localName(type)) // Outer_Inner for a nested declaration, as its plan is named
            .kind(multiscale != null ? ModelKind.MULTISCALE : ModelKind.RASTER)
            .channels(v.integer("channels"))
            .levels(v.integer("levels"))
            .size(v.integer("size"));
    Values gated = v.nested(multiscale != null ? "baseNet" : "net");
    b.gated(new GatedSpec(gated.integer("layers"), gated.integer("filters"), gated.integer("kernel")));
    if (multiscale != null) {
      b.base(v.integer("base"));
      Values up = v.nested("upscaling");
      b.upscaling(
          new UpscaleSpec(
              up.integer("filters"),
              up.integer("blocks"),
              up.integer("headLayers"),
              UpscaleType.valueOf(up.enumName("type")),
              up.integer("patch")));
    }
    List<ConditioningSpec> conditioning = new ArrayList<>();
    ok &= readConditioning(type, model, v, conditioning);
    b.conditioning(conditioning);
    try {
      ModelSpec spec = b.build();
      return ok ? Optional.of(spec) : Optional.empty();
    } catch (InvalidModelException e) {
      for (SpecViolation violation : e.violations()) {
        report(type, v, violation);
      }
      return Optional.empty();
    }
  }

  private boolean readConditioning(
      TypeElement type, AnnotationMirror model, Values v, List<ConditioningSpec> out) {
    AnnotationValue list = v.value("conditioning");
    if (list == null) {
      return true;
    }
    boolean ok = true;
    TypeMirror spi = types.erasure(elements.getTypeElement(CONDITIONING).asType());
    @SuppressWarnings("unchecked")
    List<? extends AnnotationValue> entries = (List<? extends AnnotationValue>) list.getValue();
    for (AnnotationValue entry : entries) {
      TypeMirror t = (TypeMirror) entry.getValue();
      String name = t.toString();
      if (!types.isAssignable(types.erasure(t), spi)) {
        error(SpecViolation.of(SpecError.CONDITIONING_NOT_SPI, "conditioning", name), type, model, entry);
        ok = false;
        continue;
      }
      Element te = types.asElement(t);
      AnnotationMirror input = te == null ? null : mirror(te, ConditioningInput.class.getCanonicalName());
      if (input == null) {
        error(SpecViolation.of(SpecError.CONDITIONING_UNDESCRIBED, "conditioning", name), type, model, entry);
        ok = false;
        continue;
      }
      Values in = new Values(input);
      out.add(new ConditioningSpec(name, ConditioningKind.valueOf(in.enumName("kind")), in.integer("width")));
    }
    return ok;
  }

  /** Reports a violation on the value of the attribute it names, nested annotations included. */
  private void report(TypeElement type, Values v, SpecViolation violation) {
    String attribute = violation.attribute();
    Values where = v;
    String leaf = attribute;
    int dot = attribute.indexOf('.');
    if (dot > 0) {
      where = v.nested(attribute.substring(0, dot));
      leaf = attribute.substring(dot + 1);
    }
    AnnotationValue value = where.explicit(leaf);
    if (value == null && where != v) {
      // A defaulted attribute of a nested annotation: point at the nested annotation itself.
      error(violation, type, v.mirror, v.value(attribute.substring(0, dot)));
    } else {
      error(violation, type, where.mirror, value);
    }
  }

  private void error(SpecViolation violation, Element element, AnnotationMirror mirror, AnnotationValue value) {
    if (value != null) {
      messager.printMessage(Diagnostic.Kind.ERROR, violation.message(), element, mirror, value);
    } else if (mirror != null) {
      messager.printMessage(Diagnostic.Kind.ERROR, violation.message(), element, mirror);
    } else {
      messager.printMessage(Diagnostic.Kind.ERROR, violation.message(), element);
    }
  }

  private static AnnotationMirror mirror(Element element, String annotation) {
    for (AnnotationMirror m : element.getAnnotationMirrors()) {
      if (((TypeElement) m.getAnnotationType().asElement()).getQualifiedName().contentEquals(annotation)) {
        return m;
      }
    }
    return null;
  }

  /** The values of one annotation mirror, explicit or defaulted. */
  private final class Values {
    final AnnotationMirror mirror;
    private final Map<? extends ExecutableElement, ? extends AnnotationValue> explicit;
    private final Map<? extends ExecutableElement, ? extends AnnotationValue> all;

    Values(AnnotationMirror mirror) {
      this.mirror = mirror;
      this.explicit = mirror.getElementValues();
      this.all = elements.getElementValuesWithDefaults(mirror);
    }

    AnnotationValue value(String name) {
      return find(all, name);
    }

    AnnotationValue explicit(String name) {
      return find(explicit, name);
    }

    private AnnotationValue find(Map<? extends ExecutableElement, ? extends AnnotationValue> map, String name) {
      for (Map.Entry<? extends ExecutableElement, ? extends AnnotationValue> e : map.entrySet()) {
        if (e.getKey().getSimpleName().contentEquals(name)) {
          return e.getValue();
        }
      }
      return null;
    }

    int integer(String name) {
      AnnotationValue value = value(name);
      return value == null ? 0 : (Integer) value.getValue();
    }

    String enumName(String name) {
      return ((VariableElement) value(name).getValue()).getSimpleName().toString();
    }

    Values nested(String name) {
      return new Values((AnnotationMirror) value(name).getValue());
    }
  }

  /** The type's name inside its package, nesting written with '_' ({@code Outer_Inner}). */
  static String localName(TypeElement type) {
    StringBuilder name = new StringBuilder(type.getSimpleName());
    for (javax.lang.model.element.Element e = type.getEnclosingElement(); e instanceof TypeElement outer; e = e.getEnclosingElement()) {
      name.insert(0, outer.getSimpleName() + "_");
    }
    return name.toString();
  }
}
