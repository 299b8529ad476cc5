package dev.junction.control.k8s;

import java.util.List;

/**
 * What loading a manifests directory found wrong (objects left out, with why) and what it
 * noticed without leaving anything out (ignored kinds, references to objects it does not have).
 */
public record LoadReport(int objects, List<Problem> problems, List<String> notes)
{
    /** One object (or file, or YAML document) left out. Kind, namespace and name are null when unknown. */
    public record Problem(String file, String kind, String namespace, String name, String reason)
    {
        @Override
        public String toString()
        {
            final StringBuilder sb = new StringBuilder(file);
            if (kind != null)
            {
                sb.append(": ").append(kind);
            }
            if (name != null)
            {
                sb.append(' ').append(namespace == null ? "" : namespace + "/").append(name);
            }
            return sb.append(": ").append(reason).toString();
        }
    }

    public LoadReport
    {
        problems = List.copyOf(problems);
        notes = List.copyOf(notes);
    }

    public boolean isClean()
    {
        return problems.isEmpty();
    }
}
