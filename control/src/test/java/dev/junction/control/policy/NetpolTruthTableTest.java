package dev.junction.control.policy;

import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.k8s.Pod;
import dev.junction.control.k8s.Protocol;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static dev.junction.control.policy.TruthTable.allAllowed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * NetworkPolicy truth tables over the upstream e2e model: namespaces x, y, z (labels ns=x...,
 * plus the kubernetes.io/metadata.name label the API server adds), pods a, b, c in each (labels
 * pod=a...), each serving ports 80 and 81 over TCP, UDP and SCTP with container ports named
 * serve-80-tcp and so on, as the upstream model names them.
 *
 * <p>Scenarios marked {@code upstream:} are translations of test cases of
 * test/e2e/network/netpol/network_policy.go in kubernetes/kubernetes: same policies, and the
 * expected matrix as the upstream test states it (ExpectPeer/ExpectAllIngress/... in the same
 * order), extended to all nine pods where upstream creates fewer; the extension follows from the
 * same rules and is noted where it adds anything. Upstream ignores loopback (a pod to itself); here
 * the diagonal is compared too, with the value the API's rules give (the upstream expectations set
 * it consistently). Scenarios marked {@code semantics:} are not upstream cases; their matrices are
 * derived by hand from the API documentation. No expectation comes from running the engine.
 *
 * <p>Public, with {@link #model()} and {@link #scenarios()}: the differential test of derived flows
 * against Open vSwitch (diff.ManifestOracleTest) runs the model with some scenarios' policies.
 */
public class NetpolTruthTableTest
{
    record Case(Protocol protocol, int port, boolean ipv6, TruthTable expected)
    {
        @Override
        public String toString()
        {
            return protocol + "/" + port + (ipv6 ? " IPv6" : "");
        }
    }

    public record Scenario(String name, String policies, List<Case> cases)
    {
        @Override
        public String toString()
        {
            return name;
        }
    }

    static Case tcp(final int port, final TruthTable t)
    {
        return new Case(Protocol.TCP, port, false, t);
    }

    static Case udp(final int port, final TruthTable t)
    {
        return new Case(Protocol.UDP, port, false, t);
    }

    static Case sctp(final int port, final TruthTable t)
    {
        return new Case(Protocol.SCTP, port, false, t);
    }

    static Scenario s(final String name, final String policies, final Case... cases)
    {
        return new Scenario(name, policies, List.of(cases));
    }

    /** A NetworkPolicy document; {@code spec} is YAML for the spec's fields, indented by two. */
    static String np(final String ns, final String name, final String spec)
    {
        return "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name + ", namespace: " + ns
            + "}\nspec:\n" + spec.stripIndent().lines().map(l -> "  " + l).collect(Collectors.joining("\n")) + "\n";
    }

    static int nsIndex(final String ns)
    {
        return TruthTable.NAMESPACES.indexOf(ns) + 1;
    }

    static int podIndex(final String pod)
    {
        return TruthTable.PODS.indexOf(pod) + 1;
    }

    /** x/b is 10.244.1.12 and fd00:10:244:1::12; y/* are in 10.244.2.0/24, and so on. */
    static String ipv4(final String ns, final String pod)
    {
        return "10.244." + nsIndex(ns) + ".1" + podIndex(pod);
    }

    static String ipv6(final String ns, final String pod)
    {
        return "fd00:10:244:" + nsIndex(ns) + "::1" + podIndex(pod);
    }

    public static String model()
    {
        final StringBuilder sb = new StringBuilder();
        for (final String ns : TruthTable.NAMESPACES)
        {
            sb.append("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ").append(ns).append(", labels: {ns: ").append(ns).append("}}\n");
            for (final String pod : TruthTable.PODS)
            {
                sb.append("---\napiVersion: v1\nkind: Pod\nmetadata: {name: ").append(pod).append(", namespace: ").append(ns)
                    .append(", labels: {pod: ").append(pod).append("}}\nspec:\n  nodeName: node-").append(nsIndex(ns))
                    .append("\n  containers:\n");
                for (final int port : new int[] {80, 81})
                {
                    for (final String proto : new String[] {"TCP", "UDP", "SCTP"})
                    {
                        sb.append("  - name: cont-").append(port).append('-').append(proto.toLowerCase())
                            .append("\n    ports: [{name: serve-").append(port).append('-').append(proto.toLowerCase())
                            .append(", containerPort: ").append(port).append(", protocol: ").append(proto).append("}]\n");
                    }
                }
                sb.append("status:\n  phase: Running\n  podIPs: [{ip: ").append(ipv4(ns, pod)).append("}, {ip: \"")
                    .append(ipv6(ns, pod)).append("\"}]\n");
            }
        }
        return sb.toString();
    }

    public static List<Scenario> scenarios()
    {
        final List<Scenario> all = new ArrayList<>();
        final String denyIngressX = np("x", "deny-ingress", """
            podSelector: {}
            policyTypes: [Ingress]
            """);

        all.add(s("upstream: should support a 'default-deny-ingress' policy", denyIngressX,
            tcp(80, allAllowed().deny("*", "x/*"))));

        all.add(s("upstream: should support a 'default-deny-all' policy", np("x", "deny-all", """
            podSelector: {}
            policyTypes: [Ingress, Egress]
            """),
            tcp(80, allAllowed().deny("*", "x/*").deny("x/*", "*"))));

        all.add(s("upstream: should enforce policy to allow traffic from pods within server namespace based on PodSelector",
            np("x", "x-a-allows-x-b", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
                """),
            tcp(80, allAllowed().denyAllIngress("x/a").allow("x/b", "x/a"))));

        all.add(s("upstream: should enforce policy to allow ingress traffic for a target",
            np("x", "deny-all", """
                podSelector: {}
                policyTypes: [Ingress]
                """) + np("x", "allow-all-to-a", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{podSelector: {}, namespaceSelector: {}}]}]
                """),
            // Upstream has x/a and x/b only; x/c, like x/b, is left to deny-all.
            tcp(80, allAllowed().allow("*", "x/a").denyAllIngress("x/b").denyAllIngress("x/c"))));

        all.add(s("upstream: should enforce policy to allow ingress traffic from pods in all namespaces",
            np("x", "allow-from-another-ns", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{namespaceSelector: {matchLabels: {}}}]}]
                """),
            tcp(80, allAllowed())));

        final TruthTable onlyFromY = allAllowed().deny("x/*", "x/a").deny("z/*", "x/a");
        all.add(s("upstream: should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
            np("x", "allow-client-a-via-ns-selector", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}]}]
                """),
            tcp(80, onlyFromY)));

        all.add(s("upstream: should enforce policy based on PodSelector with MatchExpressions",
            np("x", "x-a-allows-x-b", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{podSelector: {matchExpressions: [{key: pod, operator: In, values: [b]}]}}]}]
                """),
            tcp(80, allAllowed().denyAllIngress("x/a").allow("x/b", "x/a"))));

        all.add(s("upstream: should enforce policy based on NamespaceSelector with MatchExpressions",
            np("x", "allow-ns-y-match-selector", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [y]}]}}]}]
                """),
            tcp(80, allAllowed().deny("x/*", "x/a").deny("z/*", "x/a"))));

        all.add(s("upstream: should enforce policy based on PodSelector or NamespaceSelector",
            np("x", "allow-ns-y-match-selector", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress:
                - from:
                  - namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}]}
                  - podSelector: {matchLabels: {pod: b}}
                """),
            tcp(80, allAllowed().deny("x/a", "x/a").deny("x/c", "x/a"))));

        all.add(s("upstream: should enforce policy based on PodSelector and NamespaceSelector",
            np("x", "allow-ns-y-podselector-and-nsselector", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress:
                - from:
                  - namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}]}
                    podSelector: {matchLabels: {pod: b}}
                """),
            tcp(80, allAllowed().denyAllIngress("x/a").allow("y/b", "x/a").allow("z/b", "x/a"))));

        all.add(s("upstream: should enforce policy based on Multiple PodSelectors and NamespaceSelectors",
            np("x", "allow-ns-y-z-pod-b-c", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress:
                - from:
                  - namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}]}
                    podSelector: {matchExpressions: [{key: pod, operator: In, values: [b, c]}]}
                """),
            // Upstream has no z pods; z/a, like y/a, is no b or c.
            tcp(80, allAllowed().deny("x/*", "x/a").deny("y/a", "x/a").deny("z/a", "x/a"))));

        all.add(s("upstream: should enforce policy based on any PodSelectors",
            np("x", "allow-ns-x-pod-b-c", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}, {podSelector: {matchLabels: {pod: c}}}]}]
                """),
            tcp(80, allAllowed().denyAllIngress("x/a").allow("x/b", "x/a").allow("x/c", "x/a"))));

        all.add(s("upstream: should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
            np("x", "allow-ns-y-pod-a-via-namespace-pod-selector", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}, podSelector: {matchLabels: {pod: a}}}]}]
                """),
            tcp(80, allAllowed().denyAllIngress("x/a").allow("y/a", "x/a"))));

        final String allow81FromY = np("x", "allow-client-a-via-ns-selector", """
            podSelector: {matchLabels: {pod: a}}
            policyTypes: [Ingress]
            ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}], ports: [{port: 81, protocol: TCP}]}]
            """);
        all.add(s("upstream: should enforce policy based on Ports", allow81FromY,
            tcp(81, allAllowed().deny("x/*", "x/a").allow("y/*", "x/a").deny("z/*", "x/a")),
            // From the stacked-policies case: port 80 is closed to everyone by the port-81 policy alone.
            tcp(80, allAllowed().denyAllIngress("x/a"))));

        all.add(s("upstream: should enforce multiple, stacked policies with overlapping podSelectors", allow81FromY
            + np("x", "allow-client-a-via-ns-selector-80", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}], ports: [{port: 80, protocol: TCP}]}]
                """),
            tcp(81, allAllowed().deny("x/*", "x/a").allow("y/*", "x/a").deny("z/*", "x/a")),
            tcp(80, allAllowed().deny("x/*", "x/a").allow("y/*", "x/a").deny("z/*", "x/a"))));

        all.add(s("upstream: should support allow-all policy", np("x", "allow-all", """
                podSelector: {}
                policyTypes: [Ingress]
                ingress: [{}]
                """),
            tcp(80, allAllowed()), tcp(81, allAllowed())));

        all.add(s("upstream: should allow ingress access on one named port", np("x", "allow-all", """
                podSelector: {}
                policyTypes: [Ingress]
                ingress: [{ports: [{port: serve-81-tcp}]}]
                """),
            tcp(81, allAllowed()), tcp(80, allAllowed().deny("*", "x/*"))));

        all.add(s("upstream: should allow ingress access from namespace on one named port",
            np("x", "allow-client-a-via-ns-selector-80", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}], ports: [{port: serve-80-tcp, protocol: TCP}]}]
                """),
            tcp(80, allAllowed().deny("x/*", "x/a").deny("z/*", "x/a")),
            tcp(81, allAllowed().denyAllIngress("x/a"))));

        all.add(s("upstream: should allow egress access on one named port", np("x", "allow-egress", """
                podSelector: {}
                policyTypes: [Egress]
                egress: [{ports: [{port: serve-80-tcp}]}]
                """),
            tcp(80, allAllowed()), tcp(81, allAllowed().deny("x/*", "*"))));

        all.add(s("upstream: should enforce updated policy (the policy after its update to no ingress rules)",
            np("x", "allow-all-mutate-to-deny-all", """
                podSelector: {}
                policyTypes: [Ingress]
                ingress: []
                """),
            tcp(81, allAllowed().deny("*", "x/*"))));

        all.add(s("upstream: should deny ingress access to updated pod (before the label: the policy selects no pod)",
            np("x", "deny-ingress-via-label-selector", """
                podSelector: {matchLabels: {target: isolated}}
                policyTypes: [Ingress]
                """),
            tcp(80, allAllowed())));

        all.add(s("upstream: should deny ingress from pods on other namespaces", np("x", "deny-empty-policy", """
                podSelector: {}
                policyTypes: [Ingress]
                ingress: [{from: [{podSelector: {matchLabels: {}}}]}]
                """),
            tcp(80, allAllowed().deny("y/*", "x/*").deny("z/*", "x/*"))));

        all.add(s("upstream: should deny egress from pods based on PodSelector", np("x", "deny-egress-pod-a", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                """),
            tcp(80, allAllowed().denyAllEgress("x/a"))));

        all.add(s("upstream: should deny egress from all pods in a namespace", np("x", "deny-egress-ns-x", """
                podSelector: {}
                policyTypes: [Egress]
                """),
            tcp(80, allAllowed().deny("x/*", "*"))));

        all.add(s("upstream: should work with Ingress, Egress specified together", np("x", "allow-client-a-via-pod-selector", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress, Ingress]
                ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
                egress: [{ports: [{port: 80}]}]
                """),
            tcp(80, allAllowed().denyAllIngress("x/a").allow("x/b", "x/a")),
            tcp(81, allAllowed().denyAllIngress("x/a").denyAllEgress("x/a").allow("x/b", "x/a"))));

        final String fromXa = """
            podSelector: {matchLabels: {pod: %s}}
            policyTypes: [Ingress]
            ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}, podSelector: {matchLabels: {pod: a}}}]}]
            """;
        all.add(s("upstream: should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)",
            np("x", "allow-to-ns-y-pod-a", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}, podSelector: {matchLabels: {pod: a}}}]}]
                """)
                + np("y", "allow-from-xa-on-ya-match-selector", fromXa.formatted("a"))
                + np("y", "allow-from-xa-on-yb-match-selector", fromXa.formatted("b")),
            tcp(80, allAllowed().deny("x/a", "*").deny("*", "y/a").allow("x/a", "y/a").deny("*", "y/b"))));

        all.add(s("upstream: should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector",
            np("x", "allow-to-ns-y-pod-a", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}, podSelector: {matchLabels: {pod: a}}}]}]
                """),
            tcp(80, allAllowed().denyAllEgress("x/a").allow("x/a", "y/a"))));

        all.add(s("upstream: should enforce ingress policy allowing any port traffic to a server on a specific protocol",
            np("x", "allow-ingress-by-proto", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{ports: [{protocol: TCP}]}]
                """),
            tcp(80, allAllowed()), udp(80, allAllowed().denyAllIngress("x/a"))));

        final String onlyPort80In = np("x", "allow-ingress-port-80", """
            podSelector: {}
            policyTypes: [Ingress]
            ingress: [{ports: [{port: 80}]}]
            """);
        all.add(s("upstream: should enforce multiple ingress policies with ingress allow-all policy taking precedence (before allow-all)",
            onlyPort80In, tcp(81, allAllowed().deny("*", "x/*"))));
        all.add(s("upstream: should enforce multiple ingress policies with ingress allow-all policy taking precedence",
            onlyPort80In + np("x", "allow-ingress", """
                podSelector: {}
                policyTypes: [Ingress]
                ingress: [{}]
                """),
            tcp(81, allAllowed())));

        final String onlyPort80Out = np("x", "allow-egress-port-80", """
            podSelector: {}
            policyTypes: [Egress]
            egress: [{ports: [{port: 80}]}]
            """);
        all.add(s("upstream: should enforce multiple egress policies with egress allow-all policy taking precedence (before allow-all)",
            onlyPort80Out, tcp(81, allAllowed().deny("x/*", "*"))));
        all.add(s("upstream: should enforce multiple egress policies with egress allow-all policy taking precedence",
            onlyPort80Out + np("x", "allow-egress", """
                podSelector: {}
                policyTypes: [Egress]
                egress: [{}]
                """),
            tcp(81, allAllowed())));

        all.add(s("upstream: should stop enforcing policies after they are deleted (no policy left)", "",
            tcp(80, allAllowed())));

        all.add(s("upstream: should allow egress access to server in CIDR block", np("x", "allow-client-a-via-cidr-egress-rule", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                egress: [{to: [{ipBlock: {cidr: %s/32}}]}]
                """.formatted(ipv4("y", "b"))),
            tcp(80, allAllowed().denyAllEgress("x/a").allow("x/a", "y/b"))));

        // The large CIDR upstream computes: the /4 holding x/b's address.
        final String exceptXb = np("x", "allow-client-a-via-cidr-egress-rule", """
            podSelector: {matchLabels: {pod: a}}
            policyTypes: [Egress]
            egress: [{to: [{ipBlock: {cidr: 0.0.0.0/4, except: [%s/32]}}]}]
            """.formatted(ipv4("x", "b")));
        all.add(s("upstream: should enforce except clause while egress access to server in CIDR block", exceptXb,
            tcp(80, allAllowed().deny("x/a", "x/b"))));

        // Upstream replaces the except policy by a /32 one of the same name; here the /32 policy is
        // added beside it, so the expectation (the union) is worked out from the API, not upstream's.
        all.add(s("semantics: an IP in one policy's except and another's CIDR is allowed (the union)",
            exceptXb + np("x", "allow-client-a-to-x-b", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                egress: [{to: [{ipBlock: {cidr: %s/32}}]}]
                """.formatted(ipv4("x", "b"))),
            tcp(80, allAllowed())));

        all.add(s("upstream: should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector",
            np("x", "allow-egress-for-target", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                egress: [{}]
                """) + np("x", "deny-ingress-via-label-selector", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                """),
            tcp(80, allAllowed().denyAllIngress("x/a"))));

        all.add(s("upstream: should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
            denyIngressX + np("x", "allow-only-sctp-ingress-on-port-81", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{ports: [{port: 81, protocol: SCTP}]}]
                """),
            tcp(81, allAllowed().deny("*", "x/*")),
            // Not probed upstream: over SCTP the second policy opens x/a.
            sctp(81, allAllowed().deny("*", "x/b").deny("*", "x/c"))));

        all.add(s("upstream: should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
            np("x", "allow-only-sctp-ingress-on-port-80", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{ports: [{port: 80, protocol: SCTP}]}]
                """),
            tcp(81, allAllowed().denyAllIngress("x/a"))));

        all.add(s("upstream: should not allow access by TCP when a policy specifies only UDP",
            np("x", "allow-only-udp-ingress-on-port-81", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{ports: [{port: 81, protocol: UDP}]}]
                """),
            tcp(81, allAllowed().denyAllIngress("x/a")),
            udp(81, allAllowed())));

        all.add(s("upstream: should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label",
            np("x", "allow-client-a-via-ns-selector-for-immutable-ns-label", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}]}]
                """),
            tcp(80, allAllowed().deny("x/*", "x/a").deny("z/*", "x/a"))));

        all.add(s("upstream: should enforce policy based on NamespaceSelector with MatchExpressions using default ns label",
            np("x", "allow-ns-y-match-selector-for-immutable-ns-label", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                egress: [{to: [{namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [y]}]}}]}]
                """),
            tcp(80, allAllowed().deny("x/a", "y/*"))));

        all.add(s("upstream: UDP should support a 'default-deny-ingress' policy", denyIngressX,
            udp(80, allAllowed().deny("*", "x/*"))));

        all.add(s("upstream: UDP should enforce policy based on Ports", np("x", "allow-ingress-on-port-81-ns-x", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}], ports: [{port: 81, protocol: UDP}]}]
                """),
            udp(81, allAllowed().deny("x/*", "x/a").deny("z/*", "x/a"))));

        final String nsYPodA = np("x", "allow-ns-y-pod-a-via-namespace-pod-selector", """
            podSelector: {matchLabels: {pod: a}}
            policyTypes: [Ingress]
            ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}, podSelector: {matchLabels: {pod: a}}}]}]
            """);
        all.add(s("upstream: UDP should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
            nsYPodA, udp(80, allAllowed().denyAllIngress("x/a").allow("y/a", "x/a"))));
        all.add(s("upstream: SCTP should support a 'default-deny-ingress' policy", denyIngressX,
            sctp(80, allAllowed().deny("*", "x/*"))));
        all.add(s("upstream: SCTP should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
            nsYPodA, sctp(80, allAllowed().denyAllIngress("x/a").allow("y/a", "x/a"))));

        // Not upstream cases: matrices worked out from the API reference.
        all.add(s("semantics: endPort opens a range (81-90) and nothing outside it", np("x", "allow-81-90", """
                podSelector: {}
                policyTypes: [Ingress]
                ingress: [{ports: [{port: 81, endPort: 90, protocol: TCP}]}]
                """),
            tcp(80, allAllowed().deny("*", "x/*")), tcp(81, allAllowed()), tcp(90, allAllowed()),
            tcp(91, allAllowed().deny("*", "x/*")), udp(81, allAllowed().deny("*", "x/*"))));

        all.add(s("semantics: egress only to DNS (UDP/TCP 53) anywhere and to namespace y", np("x", "dns-and-y", """
                podSelector: {}
                egress:
                - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
                - to: [{namespaceSelector: {matchLabels: {ns: y}}}]
                """),
            // No policyTypes: defaulted to Ingress and Egress (there are egress rules), so x is
            // also closed to ingress: nothing may enter x, and x may only talk to y and to DNS.
            tcp(80, allAllowed().deny("*", "x/*").deny("x/*", "*").allow("x/*", "y/*")),
            udp(53, allAllowed().deny("*", "x/*"))));

        all.add(s("semantics: policyTypes defaults: ingress rules only isolate ingress only", np("x", "ingress-only", """
                podSelector: {matchLabels: {pod: a}}
                ingress: [{from: [{podSelector: {}}]}]
                egress: []
                """),
            tcp(80, allAllowed().deny("y/*", "x/a").deny("z/*", "x/a"))));

        all.add(s("semantics: an explicit policyTypes [Ingress] ignores the policy's egress rules", np("x", "egress-ignored", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{}]
                egress: [{to: [{podSelector: {matchLabels: {pod: b}}}]}]
                """),
            tcp(80, allAllowed())));

        all.add(s("semantics: a null namespaceSelector is the policy's namespace, an empty one is every namespace",
            np("x", "pod-b-here", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
                """) + np("x", "pod-c-anywhere", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{podSelector: {matchLabels: {pod: c}}, namespaceSelector: {}}]}]
                """),
            tcp(80, allAllowed().denyAllIngress("x/a").allow("x/b", "x/a").allow("x/c", "x/a")
                .allow("y/c", "x/a").allow("z/c", "x/a"))));

        all.add(s("semantics: Exists and DoesNotExist", np("x", "exists", """
                podSelector: {matchExpressions: [{key: pod, operator: Exists}]}
                policyTypes: [Ingress]
                ingress: [{from: [{namespaceSelector: {matchExpressions: [{key: missing, operator: DoesNotExist}, {key: ns, operator: NotIn, values: [z]}]}}]}]
                """),
            tcp(80, allAllowed().deny("z/*", "x/*"))));

        all.add(s("semantics (OVN-K): an ipBlock matches pod addresses too, in ingress", np("x", "from-y-subnet", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                ingress: [{from: [{ipBlock: {cidr: 10.244.2.0/24}}]}]
                """),
            tcp(80, allAllowed().denyAllIngress("x/a").allow("y/*", "x/a"))));

        all.add(s("semantics: an IPv6 ipBlock with except; IPv4 connections are outside it", np("x", "v6-block", """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                egress: [{to: [{ipBlock: {cidr: "fd00:10:244::/48", except: ["fd00:10:244:3::/64"]}}]}]
                """),
            new Case(Protocol.TCP, 80, true, allAllowed().deny("x/a", "z/*")),
            tcp(80, allAllowed().denyAllEgress("x/a"))));

        all.add(s("semantics: a named port must agree in protocol (serve-80-udp with the default protocol TCP matches nothing)",
            np("x", "wrong-protocol", """
                podSelector: {}
                policyTypes: [Egress]
                egress: [{ports: [{port: serve-80-udp}]}]
                """) + np("y", "right-protocol", """
                podSelector: {}
                policyTypes: [Egress]
                egress: [{ports: [{port: serve-80-udp, protocol: UDP}]}]
                """),
            udp(80, allAllowed().deny("x/*", "*")), tcp(80, allAllowed().deny("x/*", "*").deny("y/*", "*"))));
        return all;
    }

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void truthTable(final Scenario scenario) throws IOException
    {
        Files.writeString(dir.resolve("model.yaml"), model());
        Files.writeString(dir.resolve("policies.yaml"), scenario.policies());
        final ManifestLoader.Result loaded = ManifestLoader.load(dir);
        assertEquals(List.of(), loaded.report().problems(), "the scenario's manifests load clean");
        final PolicyEngine engine = new PolicyEngine(loaded.model());
        final List<Pod> pods = loaded.model().pods();
        assertEquals(9, pods.size());
        final StringBuilder failures = new StringBuilder();
        for (final Case c : scenario.cases())
        {
            final Map<String, Map<String, Boolean>> actual = Reachability.matrix(engine, pods, c.protocol(), c.port(), c.ipv6());
            if (!actual.equals(c.expected().cells))
            {
                failures.append(c).append(": expected\n").append(Reachability.render(c.expected().cells))
                    .append("but the engine says\n").append(Reachability.render(actual)).append("differences:\n");
                for (final String from : TruthTable.keys())
                {
                    for (final String to : TruthTable.keys())
                    {
                        if (!c.expected().cells.get(from).get(to).equals(actual.get(from).get(to)))
                        {
                            final Pod f = loaded.model().pod(from.split("/")[0], from.split("/")[1]).orElseThrow();
                            final Pod t = loaded.model().pod(to.split("/")[0], to.split("/")[1]).orElseThrow();
                            failures.append("  ").append(from).append(" -> ").append(to).append(": ")
                                .append(engine.decide(new Connection(Peer.pod(f), Peer.pod(t), c.protocol(), c.port()))).append('\n');
                        }
                    }
                }
            }
        }
        if (failures.length() > 0)
        {
            fail(scenario.name() + "\n" + failures);
        }
    }

    @org.junit.jupiter.api.Test
    void enoughUpstreamScenarios()
    {
        final long upstream = scenarios().stream().filter(s -> s.name().startsWith("upstream:")).count();
        org.junit.jupiter.api.Assertions.assertTrue(upstream >= 25, "upstream-derived scenarios: " + upstream);
    }
}
