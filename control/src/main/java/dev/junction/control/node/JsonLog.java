package dev.junction.control.node;

import java.io.PrintStream;
import java.time.Instant;

/**
 * Structured logs: one JSON object per line on stderr ({@code ts}, {@code level}, {@code msg} and
 * key/value pairs), so a node's log collector can parse them without a pattern.
 */
public final class JsonLog
{
    private final PrintStream out;

    public JsonLog(final PrintStream out)
    {
        this.out = out;
    }

    public void info(final String msg, final Object... kv)
    {
        log("info", msg, kv);
    }

    public void warn(final String msg, final Object... kv)
    {
        log("warn", msg, kv);
    }

    public void error(final String msg, final Object... kv)
    {
        log("error", msg, kv);
    }

    private synchronized void log(final String level, final String msg, final Object... kv)
    {
        final StringBuilder sb = new StringBuilder(128).append("{\"ts\":\"").append(Instant.now())
            .append("\",\"level\":\"").append(level).append("\",\"msg\":");
        quote(sb, msg);
        for (int i = 0; i + 1 < kv.length; i += 2)
        {
            sb.append(',');
            quote(sb, String.valueOf(kv[i]));
            sb.append(':');
            final Object v = kv[i + 1];
            if (v instanceof Number || v instanceof Boolean)
            {
                sb.append(v);
            }
            else
            {
                quote(sb, String.valueOf(v));
            }
        }
        out.println(sb.append('}'));
    }

    static void quote(final StringBuilder sb, final String s)
    {
        sb.append('"');
        for (int i = 0; i < s.length(); i++)
        {
            final char c = s.charAt(i);
            switch (c)
            {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.append(String.format("\\u%04x", (int)c));
                    }
                    else
                    {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }
}
