package dev.junction.control.cli;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Protocol;
import dev.junction.control.k8s.Service;
import dev.junction.control.probe.Prober;
import dev.junction.datapath.Datapath;
import dev.junction.flowtable.Packet;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code junction trace --manifests DIR --from NS/POD --to NS/POD|--to-service NS/NAME --port P}:
 * the client's first packet (TCP SYN or UDP datagram) injected on its pod's port of the compiled
 * bridge, traced through every pass (conntrack, group buckets, DNAT) with each table's logical
 * stage, the policy or service behind each rule, the backend a load balancer chose and a verdict.
 */
final class ManifestTrace
{
    private static final String CMD = "junction trace";
    private static final int SOURCE_PORT = 40000;

    private ManifestTrace()
    {
    }

    static int run(final Path manifests, final String from, final String to, final String toService, final int port,
        final String protocol, final boolean ipv6)
    {
        if (from == null || (to == null) == (toService == null))
        {
            System.err.println(CMD + ": --manifests needs --from NS/POD and one of --to NS/POD, --to-service NS/NAME");
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final Protocol proto;
        try
        {
            proto = Protocol.valueOf(protocol.toUpperCase(Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println(CMD + ": --protocol must be TCP or UDP, not " + protocol);
            return JunctionCli.EXIT_BAD_INPUT;
        }
        if (proto == Protocol.SCTP || port < 1 || port > 65535)
        {
            System.err.println(CMD + ": " + (proto == Protocol.SCTP ? "SCTP is not supported; TCP or UDP" : "--port must be 1-65535"));
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final ManifestFlows.Loaded loaded = ManifestFlows.load(manifests, CMD, System.err);
        if (loaded == null)
        {
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final BridgeLayout layout = loaded.compiled().layout();
        final BridgeLayout.PodPort client = layout.port(from).orElse(null);
        if (client == null)
        {
            System.err.println(CMD + ": --from " + from + ": no such pod with a port (ns/name)");
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final String family = ipv6 ? "IPv6" : "IPv4";
        final InetAddress src = client.ip(ipv6).orElse(null);
        if (src == null)
        {
            System.err.println(CMD + ": --from " + from + " has no " + family + " address");
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final InetAddress dst;
        final String dstMac;
        final String target;
        if (to != null)
        {
            final BridgeLayout.PodPort server = layout.port(to).orElse(null);
            if (server == null)
            {
                System.err.println(CMD + ": --to " + to + ": no such pod with a port (ns/name)");
                return JunctionCli.EXIT_BAD_INPUT;
            }
            dst = server.ip(ipv6).orElse(null);
            if (dst == null)
            {
                System.err.println(CMD + ": --to " + to + " has no " + family + " address");
                return JunctionCli.EXIT_BAD_INPUT;
            }
            dstMac = server.sw().key() == client.sw().key() ? server.mac() : client.sw().gatewayMac();
            target = "pod " + server.name() + " (port " + server.ofport() + ")";
        }
        else
        {
            final Service svc = loaded.model().services().stream().filter(s -> s.key().equals(toService)).findFirst().orElse(null);
            if (svc == null)
            {
                System.err.println(CMD + ": --to-service " + toService + ": no such service (ns/name)");
                return JunctionCli.EXIT_BAD_INPUT;
            }
            dst = svc.clusterIps().stream().filter(ip -> Ip.isIpv6(ip) == ipv6).findFirst().orElse(null);
            if (dst == null)
            {
                System.err.println(CMD + ": --to-service " + toService + " has no " + family + " cluster IP");
                return JunctionCli.EXIT_BAD_INPUT;
            }
            dstMac = client.sw().gatewayMac();
            target = "service " + svc.key();
            if (svc.ports().stream().noneMatch(sp -> sp.port() == port && sp.protocol() == proto))
            {
                System.out.println("Note: service " + svc.key() + " has no port " + port + "/" + proto);
            }
        }
        final byte[] frame = Prober.firstPacket(client, dstMac, src, dst, proto, SOURCE_PORT, port);
        final Packet p = new Packet(frame.length + Packet.HEADROOM);
        p.wrap(frame, 0, frame.length);
        p.inPort = client.ofport();
        final List<Integer> outPorts = new ArrayList<>();
        final List<byte[]> outFrames = new ArrayList<>();
        final Datapath dp = new Datapath(new dev.junction.datapath.Bridge(loaded.tables()), layout.ofports(), (out, pkt) ->
        {
            outPorts.add(out);
            outFrames.add(Arrays.copyOfRange(pkt.buf, pkt.start, pkt.end()));
        }, Datapath.DEFAULT_MTU, 1, dev.junction.datapath.cache.CacheConfig.DEFAULTS, System::nanoTime);
        final TraceText text = new TraceText();
        final StageTrace sink = new StageTrace(text, loaded.compiled());
        dp.receive(p, sink);

        System.out.println("Trace: " + client.name() + " (port " + client.ofport() + ") " + addr(src, SOURCE_PORT) + " -> "
            + target + " " + addr(dst, port) + " " + proto + (proto == Protocol.TCP ? " SYN" : ""));
        System.out.println();
        System.out.print(text.text());
        System.out.println();
        System.out.println("Datapath actions (first pass): " + dp.lastActions().describe());
        BridgeLayout.PodPort deliveredTo = null;
        String backend = null;
        if (outPorts.isEmpty())
        {
            System.out.println("No output.");
        }
        else
        {
            System.out.println("Output:");
            for (int i = 0; i < outPorts.size(); i++)
            {
                final int ofport = outPorts.get(i);
                final BridgeLayout.PodPort pod = layout.ports().stream().filter(x -> x.ofport() == ofport).findFirst().orElse(null);
                final String seen = addresses(outFrames.get(i));
                System.out.println("  port " + ofport + (pod == null ? "" : " (" + pod.name() + ")") + ": " + seen);
                if (pod != null && deliveredTo == null)
                {
                    deliveredTo = pod;
                    backend = seen.substring(seen.indexOf("-> ") + 3);
                }
            }
        }
        if (toService != null)
        {
            System.out.println("Load balancer: " + (sink.services().isEmpty() ? "no flow of a service met"
                : "service " + String.join(", ", sink.services())) + (deliveredTo == null ? ", no backend reached"
                : ", backend " + deliveredTo.name() + " " + backend));
        }
        if (deliveredTo != null)
        {
            System.out.println("Verdict: delivered to " + deliveredTo.name() + " (port " + deliveredTo.ofport() + ")");
        }
        else
        {
            final String drop = sink.drop();
            System.out.println("Verdict: dropped at " + (drop == null ? sink.lastStage() + " (no output)" : drop));
        }
        return 0;
    }

    private static String addr(final InetAddress ip, final int port)
    {
        return Ip.isIpv6(ip) ? "[" + Ip.text(ip) + "]:" + port : Ip.text(ip) + ":" + port;
    }

    /** {@code SRC:PORT -> DST:PORT} of an IPv4/IPv6 TCP or UDP frame, else its length. */
    private static String addresses(final byte[] f)
    {
        final int type = f.length < 14 ? 0 : (f[12] & 0xff) << 8 | (f[13] & 0xff);
        final int alen = type == 0x0800 ? 4 : type == 0x86dd ? 16 : 0;
        final int srcAt = alen == 4 ? 14 + 12 : 14 + 8;
        final int l4 = alen == 4 ? 14 + (f[14] & 0x0f) * 4 : 14 + 40;
        if (alen == 0 || f.length < l4 + 4)
        {
            return f.length + " bytes";
        }
        final InetAddress s = Ip.of(Arrays.copyOfRange(f, srcAt, srcAt + alen));
        final InetAddress d = Ip.of(Arrays.copyOfRange(f, srcAt + alen, srcAt + 2 * alen));
        return addr(s, (f[l4] & 0xff) << 8 | (f[l4 + 1] & 0xff)) + " -> " + addr(d, (f[l4 + 2] & 0xff) << 8 | (f[l4 + 3] & 0xff));
    }
}
