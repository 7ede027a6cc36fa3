/**
 * Conditioning implementations (class label, text, action, spatial map), each a {@code Conditioning}
 * with a Guice module (DESIGN.md section 1). Not built yet.
 */
package dev.mspx.conditioning;
