package dev.junction.control;

/**
 * The one-node cluster the daemon and control-loop tests start from, as manifest text: node
 * {@code n1} (OVN-K's node-subnets annotation 10.244.1.0/24, InternalIP 172.18.0.2), namespace
 * {@code shop}, and pods on {@code n1} added one document at a time. One place, so a change to
 * what a node or pod manifest needs is made once.
 */
public final class ShopCluster
{
    public static final String NODE = """
        apiVersion: v1
        kind: Node
        metadata:
          name: n1
          annotations: {k8s.ovn.org/node-subnets: '{"default":"10.244.1.0/24"}'}
        status:
          addresses: [{type: InternalIP, address: 172.18.0.2}]
        """;
    /** Separates the documents of one manifest file. */
    public static final String NEXT = "---\n";

    private ShopCluster()
    {
    }

    /** Node {@code n1} and namespace {@code shop}. */
    public static String nodeAndNamespace()
    {
        return NODE + NEXT + namespace("");
    }

    /** Namespace {@code shop}; {@code annotations} is a YAML flow mapping's body, or empty. */
    public static String namespace(final String annotations)
    {
        return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
            + (annotations.isEmpty() ? "" : "  annotations: {" + annotations + "}\n");
    }

    /** A running pod on {@code n1} in {@code shop} with address {@code ip}, labelled {@code app} unless it is null. */
    public static String pod(final String name, final String ip, final String app)
    {
        return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: shop"
            + (app == null ? "" : ", labels: {app: " + app + "}") + "}\n"
            + "spec: {nodeName: n1, containers: [{name: c}]}\n"
            + "status: {phase: Running, podIP: " + ip + ", podIPs: [{ip: " + ip + "}]}\n";
    }

    /** A NetworkPolicy in {@code shop} isolating pods labelled {@code app} for ingress, with {@code ingress} rules (YAML flow sequence body, or null for none). */
    public static String ingressPolicy(final String name, final String app, final String ingress)
    {
        return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name + ", namespace: shop}\n"
            + "spec:\n  podSelector: {matchLabels: {app: " + app + "}}\n  policyTypes: [Ingress]\n"
            + (ingress == null ? "" : "  ingress: [" + ingress + "]\n");
    }

    /** The node.yaml start of a control-mode daemon on {@code n1} reading {@code manifests} (state in {@code state}). */
    public static String controlNodeYaml(final int workers)
    {
        return "state_dir: state\nworkers: " + workers + "\ncontrol: {node: n1, manifests: manifests}\n";
    }
}
