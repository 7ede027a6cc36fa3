/**
 * The annotation processor that reads {@code @MultiscaleModel} declarations, validates them and writes
 * their execution plans (DESIGN.md sections 2 and 3). Not built yet: it is the work of the plans issue.
 */
package dev.mspx.codegen;
