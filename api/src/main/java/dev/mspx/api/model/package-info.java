/**
 * Declaring models: the annotations a user puts on a type ({@link dev.mspx.api.model.MultiscaleModel},
 * {@link dev.mspx.api.model.RasterModel}), the validated value they become ({@link
 * dev.mspx.api.model.ModelSpec}), every rule a declaration must satisfy with its message ({@link
 * dev.mspx.api.model.SpecError}), and the {@link dev.mspx.api.model.Conditioning} SPI.
 *
 * <p>The rules live here rather than in the processor so that a spec made at run time (a property test
 * generates thousands) is held to exactly the rules that {@code javac} enforces on a declaration.
 */
@Value.Style(
    visibility = Value.Style.ImplementationVisibility.PACKAGE,
    overshadowImplementation = true,
    defaults = @Value.Immutable(copy = false))
package dev.mspx.api.model;

import org.immutables.value.Value;
