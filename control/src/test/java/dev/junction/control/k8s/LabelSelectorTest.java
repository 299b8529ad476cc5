package dev.junction.control.k8s;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Label selector semantics as k8s.io/apimachinery/pkg/labels defines them. */
class LabelSelectorTest
{
    /** labels "k=v;k2=v2"; selector as matchLabels "k=v" and/or one expression "key op v1|v2". */
    @ParameterizedTest(name = "{0} vs [{1}] [{2}] -> {3}")
    @CsvSource(delimiter = ',', value = {
        "'',           '',      '',                      true",   // empty selector: everything
        "'app=web',    '',      '',                      true",
        "'app=web',    'app=web', '',                    true",
        "'app=web',    'app=db',  '',                    false",
        "'',           'app=web', '',                    false",
        "'app=web;t=1', 'app=web;t=1', '',               true",
        "'app=web',    'app=web;t=1', '',                false",  // matchLabels is AND
        "'app=web',    '',      'app In web|db',         true",
        "'app=api',    '',      'app In web|db',         false",
        "'',           '',      'app In web|db',         false",  // In needs the key
        "'app=api',    '',      'app NotIn web|db',      true",
        "'app=web',    '',      'app NotIn web|db',      false",
        "'',           '',      'app NotIn web|db',      true",   // NotIn holds without the key
        "'app=',       '',      'app Exists',            true",   // an empty value still exists
        "'',           '',      'app Exists',            false",
        "'',           '',      'app DoesNotExist',      true",
        "'app=web',    '',      'app DoesNotExist',      false",
        "'app=web',    'app=web', 'app NotIn web',       false",  // labels AND expressions
    })
    void matches(final String labels, final String matchLabels, final String expression, final boolean expected)
    {
        final LabelSelector.Requirement[] reqs = expression.isEmpty() ? new LabelSelector.Requirement[0]
            : new LabelSelector.Requirement[] {requirement(expression)};
        assertEquals(expected, LabelSelector.of(map(matchLabels), reqs).matches(map(labels)));
    }

    private static LabelSelector.Requirement requirement(final String text)
    {
        final String[] p = text.split(" ");
        return new LabelSelector.Requirement(p[0], LabelSelector.Operator.valueOf(p[1]),
            p.length > 2 ? Set.copyOf(Arrays.asList(p[2].split("\\|"))) : Set.of());
    }

    private static Map<String, String> map(final String text)
    {
        final Map<String, String> m = new HashMap<>();
        for (final String kv : text.isEmpty() ? List.<String>of() : Arrays.asList(text.split(";")))
        {
            final int eq = kv.indexOf('=');
            m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
    }

    @ParameterizedTest
    @CsvSource({"In,''", "NotIn,''", "Exists,v", "DoesNotExist,v"})
    void valuesMustFitTheOperator(final String op, final String values)
    {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new LabelSelector.Requirement("k",
            LabelSelector.Operator.valueOf(op), values.isEmpty() ? Set.of() : Set.of(values)));
    }
}
