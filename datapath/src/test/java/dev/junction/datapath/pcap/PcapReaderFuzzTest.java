package dev.junction.datapath.pcap;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PcapReader} on arbitrary files: it reads records, or it refuses the file with an
 * {@link IOException} whose message names the file. Never another exception, never a hang (every
 * record consumes at least its 8- or 16-byte header), and never a buffer larger than what
 * {@link PcapReader#MAX_SNAPLEN} bounds, whatever length a header declares.
 *
 * <p>Seeds: {@code src/test/resources/dev/junction/datapath/pcap/PcapReaderFuzzTestInputs/read/},
 * the example traces and hand-built pcapng sections.
 */
class PcapReaderFuzzTest
{
    private static final Path NAME = Path.of("fuzz.pcap");

    @FuzzTest(maxDuration = "15s")
    void read(final byte[] file)
    {
        int records = 0;
        try (PcapReader r = PcapReader.open(NAME, new ByteArrayInputStream(file)))
        {
            while (r.next())
            {
                records++;
                assertTrue(records <= file.length / 8, records + " records from " + file.length + " bytes");
                assertTrue(r.length() >= 0 && r.length() <= PcapReader.MAX_SNAPLEN && r.length() <= file.length,
                    "length " + r.length());
                assertTrue(r.frame().length <= 2 * PcapReader.MAX_SNAPLEN, "buffer " + r.frame().length);
            }
        }
        catch (final IOException ex)
        {
            assertNotNull(ex.getMessage());
            assertTrue(ex.getMessage().startsWith(NAME.toString()), "the message names the file: " + ex.getMessage());
        }
    }
}
