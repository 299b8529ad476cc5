package dev.junction.bench;

/**
 * Settings every benchmark class shares, as compile-time constants because annotation values
 * must be: {@link PacketBenchmark} carries them in its {@code @Fork}, {@code @Warmup} and
 * {@code @Measurement}, which JMH applies to every subclass.
 */
public final class BenchDefaults
{
    /** Agrona (on the datapath's classpath) reaches into jdk.internal.misc, as bin/junction allows. */
    public static final String ADD_OPENS = "--add-opens";
    public static final String JDK_INTERNAL_MISC = "java.base/jdk.internal.misc=ALL-UNNAMED";

    /** Two forks: on a noisy 2-core machine one fork's JIT luck shows as a wide error bar, not a wrong mean. */
    public static final int FORKS = 2;
    public static final int WARMUP_ITERATIONS = 3;
    public static final int MEASUREMENT_ITERATIONS = 5;
    public static final int ITERATION_SECONDS = 1;

    private BenchDefaults()
    {
    }
}
