package dev.junction.control.yaml;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.error.YAMLException;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an untrusted YAML file cannot get past: recursion, alias amplification, too many aliases, duplicate keys. */
class SafeYamlTest
{
    @Test
    void sharedAnchorsLoad()
    {
        final Object doc = SafeYaml.checkTree(SafeYaml.yaml().load("labels: &l {app: web}\nselector: *l\n"));
        assertEquals(Map.of("app", "web"), ((Map<?, ?>)doc).get("selector"));
    }

    @Test
    void aSelfReferringDocumentIsRefused()
    {
        final Object doc = SafeYaml.yaml().load("state_dir: &s [[*s]]\n");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> SafeYaml.checkTree(doc));
        assertTrue(ex.getMessage().contains("recursive"), ex.getMessage());
    }

    @Test
    void aliasesThatExpandPastWhatPlainTextCouldHoldAreRefused()
    {
        // 8 levels of 4 aliases each (32, the limit): 4^8 copies of a 100-item list, 6.5 million nodes.
        final StringBuilder y = new StringBuilder("l0: &l0 [");
        for (int i = 0; i < 100; i++)
        {
            y.append(i == 0 ? "" : ",").append(i);
        }
        y.append("]\n");
        for (int level = 1; level <= 8; level++)
        {
            y.append("l").append(level).append(": &l").append(level).append(" [");
            for (int k = 0; k < 4; k++)
            {
                y.append(k == 0 ? "" : ",").append("*l").append(level - 1);
            }
            y.append("]\n");
        }
        final Object doc = SafeYaml.yaml().load(y.toString());
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> SafeYaml.checkTree(doc));
        assertTrue(ex.getMessage().contains("aliases expand"), ex.getMessage());
    }

    @Test
    void moreAliasesThanTheLimitAreRefusedByTheParser()
    {
        final StringBuilder y = new StringBuilder("a: &a [x]\nb: [");
        for (int i = 0; i <= SafeYaml.MAX_ALIASES_FOR_COLLECTIONS; i++)
        {
            y.append(i == 0 ? "" : ",").append("*a");
        }
        y.append("]\n");
        assertThrows(YAMLException.class, () -> SafeYaml.yaml().load(y.toString()));
    }

    @Test
    void duplicateKeysAreRefused()
    {
        assertThrows(YAMLException.class, () -> SafeYaml.yaml().load("ports: [1]\nports: [2]\n"));
    }

    @Test
    void anyKeyTypeIsAnsweredWithoutThrowing()
    {
        final Map<?, ?> doc = SafeYaml.yaml().load("~: 1\n7: 2\nports: 3\n");
        int known = 0;
        for (final Object k : doc.keySet())
        {
            known += SafeYaml.isKeyIn(k, Set.of("ports")) ? 1 : 0;
        }
        assertEquals(1, known);
        assertFalse(SafeYaml.isKeyIn(List.of(), Set.of("ports")));
    }
}
