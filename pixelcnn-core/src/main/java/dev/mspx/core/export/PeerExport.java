package dev.mspx.core.export;

import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.MaskSpec;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.api.plan.Slot;
import dev.mspx.core.Model;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model's parameters as an {@code .npz} that the PyTorch peer ({@code bench/peer/torch_mspx.py score})
 * and any numpy user can read, without Arrow:
 *
 * <ul>
 *   <li>every parameter under its mspx name ({@code base.layer0.vertical.weight}, {@code
 *       up0.g2.block1.conv2.bias}, …), float32 in the plan's shape: convolution weights {@code [out,
 *       in, kH, kW]}, biases {@code [out]}, class tables {@code [classes, width]} — the layouts of
 *       {@code torch.nn.Conv2d} and {@code torch.nn.Embedding}, so the peer maps names only;
 *   <li>every constant weight mask under its slot name ({@code base.layer0.vertical.mask}), float32 0/1,
 *       so that the peer can compare its own masks with ours element for element;
 *   <li>{@value #META}: UTF-8 JSON with the format, the model's name, declaration and fingerprint, the
 *       step, the whole spec (the peer builds its model from it) and the parameter and mask names in
 *       plan order.
 * </ul>
 *
 * The mapping from these names to the peer's {@code state_dict} keys is written out in the peer
 * ({@code MSPX_TO_PEER}) and in {@code bench/peer/README.md}.
 */
public final class PeerExport {

  /** The metadata entry of an export. */
  public static final String META = "mspx.json";

  /** The value of the metadata's {@code format} field. */
  public static final String FORMAT = "mspx-npz";

  public static final int VERSION = 1;

  private PeerExport() {}

  /** Writes {@code model}'s parameters, masks and spec to {@code file} (atomically). */
  public static void write(Model model, Path file) throws IOException {
    Npz.write(file, arrays(model));
  }

  /** The arrays of an export of {@code model}, metadata first. */
  public static Map<String, Npz.Array> arrays(Model model) {
    ExecutionPlan plan = model.plan();
    Map<String, Npz.Array> out = new LinkedHashMap<>();
    List<String> params = new ArrayList<>();
    List<String> masks = new ArrayList<>();
    Map<String, Npz.Array> body = new LinkedHashMap<>();
    for (ParameterSpec p : plan.parameters()) {
      Slot s = plan.slot(p.slot());
      body.put(p.name(), Npz.Array.ofFloats(model.parameters().read(p.name()), dims(s)));
      params.add(p.name());
    }
    for (Map.Entry<Integer, MaskSpec> m : new TreeMap<>(plan.masks()).entrySet()) {
      Slot s = plan.slot(m.getKey());
      body.put(s.name(), Npz.Array.ofFloats(m.getValue().values(), dims(s)));
      masks.add(s.name());
    }
    out.put(META, Npz.Array.ofText(metadata(model, params, masks)));
    out.putAll(body);
    return out;
  }

  private static long[] dims(Slot s) {
    long[] d = new long[s.shape().rank()];
    for (int i = 0; i < d.length; i++) {
      d[i] = s.shape().dim(i);
    }
    return d;
  }

  /** The metadata as JSON (written by hand: a flat, fixed structure needs no library). */
  static String metadata(Model model, List<String> params, List<String> masks) {
    ModelSpec s = model.spec();
    StringBuilder b = new StringBuilder("{");
    field(b, "format", FORMAT).append(", ");
    b.append("\"version\": ").append(VERSION).append(", ");
    field(b, "model", model.name()).append(", ");
    field(b, "declaration", s.name()).append(", ");
    field(b, "fingerprint", s.fingerprint()).append(", ");
    b.append("\"step\": ").append(model.step()).append(", ");
    b.append("\"spec\": {");
    field(b, "kind", s.kind().name().toLowerCase(Locale.ROOT)).append(", ");
    b.append("\"channels\": ").append(s.channels()).append(", ");
    b.append("\"levels\": ").append(s.levels()).append(", ");
    b.append("\"size\": ").append(s.size()).append(", ");
    b.append("\"base\": ").append(s.kind() == ModelKind.MULTISCALE ? Integer.toString(s.base()) : "null").append(", ");
    b.append("\"layers\": ").append(s.gated().layers()).append(", ");
    b.append("\"filters\": ").append(s.gated().filters()).append(", ");
    b.append("\"kernel\": ").append(s.gated().kernel()).append(", ");
    UpscaleSpec up = s.upscaling().orElse(null);
    b.append("\"up_filters\": ").append(up == null ? 0 : up.filters()).append(", ");
    b.append("\"up_blocks\": ").append(up == null ? 0 : up.blocks()).append(", ");
    b.append("\"head_layers\": ").append(up == null ? 0 : up.headLayers()).append(", ");
    field(b, "up_type", up == null ? "-" : up.type().name()).append(", ");
    b.append("\"patch\": ").append(up == null ? 0 : up.patch()).append(", ");
    b.append("\"conditioning\": [");
    for (int i = 0; i < s.conditioning().size(); i++) {
      ConditioningSpec c = s.conditioning().get(i);
      b.append(i > 0 ? ", " : "").append('{');
      field(b, "name", c.simpleName()).append(", ");
      field(b, "kind", c.kind().name()).append(", ");
      b.append("\"width\": ").append(c.width()).append('}');
    }
    b.append("]}, ");
    list(b, "parameters", params).append(", ");
    list(b, "masks", masks);
    return b.append('}').toString();
  }

  private static StringBuilder field(StringBuilder b, String key, String value) {
    return b.append('"').append(key).append("\": ").append(quote(value));
  }

  private static StringBuilder list(StringBuilder b, String key, List<String> values) {
    b.append('"').append(key).append("\": [");
    for (int i = 0; i < values.size(); i++) {
      b.append(i > 0 ? ", " : "").append(quote(values.get(i)));
    }
    return b.append(']');
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (ch < 0x20) {
            b.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
          } else {
            b.append(ch);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
