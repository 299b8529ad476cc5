package dev.junction.control.k8s;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link ManifestLoader#load} on an arbitrary manifest file: whatever the text (bad YAML, alias
 * bombs, deep nesting, objects of the wrong shape), loading returns a model and a report, each
 * problem with a reason, and never throws: one bad document costs that document only. A
 * decoder's unexpected exception, which the loader reports by its class name, is a finding, and
 * so is a hang (the per-input timeout).
 *
 * <p>Seeds: {@code src/test/resources/dev/junction/control/k8s/ManifestLoaderFuzzTestInputs/load/},
 * the example cluster's manifests, the broken-manifests test set and a few YAML bombs.
 */
class ManifestLoaderFuzzTest
{
    private static final Path DIR = tempDir();

    @FuzzTest(maxDuration = "15s")
    void load(final byte[] yaml) throws IOException
    {
        final Path file = DIR.resolve("fuzz.yaml");
        Files.write(file, yaml);
        final ManifestLoader.Result r = ManifestLoader.load(DIR);
        assertNotNull(r.model());
        for (final LoadReport.Problem p : r.report().problems())
        {
            assertNotNull(p.reason());
            assertFalse(p.reason().isBlank(), p.toString());
            // The loader reports a decoder's unexpected exception by its class name: a bug.
            assertFalse(p.reason().matches("(?s)\\w+(Exception|Error): .*"), p.toString());
        }
    }

    private static Path tempDir()
    {
        try
        {
            final Path d = Files.createTempDirectory("manifest-fuzz");
            d.toFile().deleteOnExit();
            d.resolve("fuzz.yaml").toFile().deleteOnExit();
            return d;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
