package dev.junction.control.node;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Function;

/**
 * The daemon's control socket: a unix domain socket in the state directory, mode 0600 (the
 * directory itself 0700), so only root reaches it. One request per connection: a line of
 * words; the reply is a status line ({@code 0} ok, else an exit code) and the text, then the
 * server closes the connection. Requests run one at a time on this thread.
 */
public final class ControlServer implements Runnable, AutoCloseable
{
    public static final String SOCKET = "junction.sock";
    private static final int MAX_REQUEST = 64 * 1024;

    /** A reply: an exit status and the text to print. */
    public record Reply(int status, String text)
    {
        public static Reply ok(final String text)
        {
            return new Reply(0, text);
        }

        public static Reply error(final String text)
        {
            return new Reply(1, text);
        }
    }

    private final Path socket;
    private final ServerSocketChannel server;
    private final Function<String, Reply> handler;
    private final JsonLog log;
    private volatile boolean running = true;

    public ControlServer(final Path stateDir, final Function<String, Reply> handler, final JsonLog log) throws IOException
    {
        this.socket = stateDir.resolve(SOCKET);
        this.handler = handler;
        this.log = log;
        Files.deleteIfExists(socket); // a stale socket of a crashed daemon
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    }

    public Path socket()
    {
        return socket;
    }

    @Override
    public void run()
    {
        final ByteBuffer in = ByteBuffer.allocate(MAX_REQUEST);
        while (running)
        {
            try (SocketChannel c = server.accept())
            {
                in.clear();
                while (in.hasRemaining() && c.read(in) > 0)
                {
                    if (in.get(in.position() - 1) == '\n')
                    {
                        break;
                    }
                }
                final String request = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8).strip();
                Reply reply;
                try
                {
                    reply = handler.apply(request);
                }
                catch (final RuntimeException | Error ex)
                {
                    // Whatever a request throws, the control thread lives on: it is the only way in.
                    reply = Reply.error(request + ": " + ex);
                    final java.io.StringWriter trace = new java.io.StringWriter();
                    ex.printStackTrace(new java.io.PrintWriter(trace));
                    log.warn("control request failed", "request", request, "error", trace.toString());
                }
                final byte[] out = (reply.status() + "\n" + reply.text()).getBytes(StandardCharsets.UTF_8);
                final ByteBuffer b = ByteBuffer.wrap(out);
                while (b.hasRemaining())
                {
                    c.write(b);
                }
            }
            catch (final IOException ex)
            {
                if (running)
                {
                    log.warn("control socket error", "error", String.valueOf(ex));
                }
            }
        }
    }

    /** How long a client waits for the daemon's reply before giving up. */
    public static final long REPLY_TIMEOUT_MILLIS = 30_000;

    /** Sends one request to the daemon whose state directory is {@code stateDir}; never waits past the timeout. */
    public static Reply request(final Path stateDir, final String request) throws IOException
    {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(stateDir.resolve(SOCKET)));
            java.nio.channels.Selector selector = java.nio.channels.Selector.open())
        {
            c.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
            c.configureBlocking(false);
            c.register(selector, java.nio.channels.SelectionKey.OP_READ);
            final long deadline = System.currentTimeMillis() + REPLY_TIMEOUT_MILLIS;
            final java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            final ByteBuffer b = ByteBuffer.allocate(64 * 1024);
            while (true)
            {
                final long left = deadline - System.currentTimeMillis();
                if (left <= 0)
                {
                    throw new IOException("no reply within " + REPLY_TIMEOUT_MILLIS + " ms to: " + request);
                }
                selector.select(left);
                selector.selectedKeys().clear();
                final int n = c.read(b);
                if (n < 0)
                {
                    break;
                }
                all.write(b.array(), 0, b.position());
                b.clear();
            }
            final String s = all.toString(StandardCharsets.UTF_8);
            final int nl = s.indexOf('\n');
            if (nl < 0)
            {
                throw new IOException("the daemon closed the connection without a reply");
            }
            return new Reply(Integer.parseInt(s.substring(0, nl).trim()), s.substring(nl + 1));
        }
    }

    @Override
    public void close() throws IOException
    {
        running = false;
        server.close();
        Files.deleteIfExists(socket);
    }
}
