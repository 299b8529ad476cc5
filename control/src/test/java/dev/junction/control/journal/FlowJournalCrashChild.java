package dev.junction.control.journal;

import java.nio.file.Path;

/**
 * Run by {@link FlowJournalCrashTest} in a JVM of its own: restores the journal in {@code args[0]}
 * (printing {@code restored V}), then appends the {@link FlowJournalTest.Model} versions after it
 * in a loop until killed, printing each version's number once {@code append} has returned.
 */
public final class FlowJournalCrashChild
{
    public static void main(final String[] args) throws Exception
    {
        final FlowJournalTest.Model model = FlowJournalCrashTest.model();
        try (FlowJournal journal = FlowJournal.open(Path.of(args[0]), FlowJournalCrashTest.SNAPSHOT_EVERY))
        {
            final long restored = journal.restore().map(FlowJournal.Restored::version).orElse(0L);
            System.out.println("restored " + restored);
            System.out.flush();
            if (restored == 0)
            {
                journal.append(model.initial());
                System.out.println(model.version);
                System.out.flush();
            }
            else
            {
                while (model.version < restored)
                {
                    model.next();
                }
            }
            while (true)
            {
                journal.append(model.next());
                System.out.println(model.version);
                System.out.flush();
            }
        }
    }
}
