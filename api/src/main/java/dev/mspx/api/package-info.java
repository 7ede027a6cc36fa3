/**
 * The mspx API: tensors and their shapes, Arrow-backed host memory, and the {@link dev.mspx.api.Backend}
 * SPI through which every compute backend (the scalar reference, the vectorised CPU backend, cuDNN) runs
 * the op set of the multiscale PixelCNN, forward and backward.
 *
 * <p>Conventions that hold for every op: tensors are dense, row-major, NCHW; images are {@code uint8}
 * values {@code 0..L-1}; logits are channel-major ({@code unit c·L + l}); ops overwrite their outputs
 * completely and never alias an input with an output unless the op says so (Adam updates in place).
 */
@Value.Style(
    visibility = Value.Style.ImplementationVisibility.PACKAGE,
    overshadowImplementation = true,
    defaults = @Value.Immutable(copy = false))
package dev.mspx.api;

import org.immutables.value.Value;
