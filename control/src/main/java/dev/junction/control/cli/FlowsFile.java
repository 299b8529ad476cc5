package dev.junction.control.cli;

import dev.junction.flowtable.TunMetadataSlots;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.ofp.GroupParser;
import dev.junction.flowtable.ofp.GroupTable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads a flows file whole, or not at all. */
public final class FlowsFile
{
    private FlowsFile()
    {
    }

    public static FlowTables load(final Path path) throws IOException, FlowParseException
    {
        return new FlowTables(new FlowParser(path.toString()).parseAll(Files.readAllLines(path)));
    }

    /** Loads {@code groups} (if not null) first, then the flows, which may name those groups: the oracle's order. */
    public static FlowTables load(final Path path, final GroupTable groups) throws IOException, FlowParseException
    {
        return new FlowTables(new FlowParser(path.toString()).groups(groups).parseAll(Files.readAllLines(path)), groups);
    }

    /**
     * Loads flows for a bridge: they may name {@code groups} and the tun_metadata fields of its
     * TLV map ({@code tunMetadata}; none without tunnels, as a switch with an empty map).
     */
    public static FlowTables load(final Path path, final GroupTable groups, final TunMetadataSlots tunMetadata)
        throws IOException, FlowParseException
    {
        return new FlowTables(new FlowParser(path.toString()).groups(groups).tunMetadata(tunMetadata)
            .parseAll(Files.readAllLines(path)), groups);
    }

    /** Loads a groups file whole, or prints why not and returns null. */
    public static GroupTable loadGroupsOrReport(final Path path, final String command)
    {
        try
        {
            return new GroupParser(path.toString()).parseAll(Files.readAllLines(path));
        }
        catch (final FlowParseException ex)
        {
            System.err.println(command + ": groups refused: " + ex.getMessage());
        }
        catch (final IOException ex)
        {
            System.err.println(command + ": cannot read " + path + ": " + ex.getMessage());
        }
        return null;
    }

    /** Loads a bridge's flows (see {@link #load(Path, GroupTable, TunMetadataSlots)}), or prints why not and returns null. */
    public static FlowTables loadOrReport(final Path path, final GroupTable groups, final TunMetadataSlots tunMetadata,
        final String command)
    {
        try
        {
            return load(path, groups, tunMetadata);
        }
        catch (final FlowParseException ex)
        {
            System.err.println(command + ": flows refused: " + ex.getMessage());
        }
        catch (final IOException ex)
        {
            System.err.println(command + ": cannot read " + path + ": " + ex.getMessage());
        }
        return null;
    }

    /** Loads, or prints why not (prefixed by the command's name) and returns null. */
    public static FlowTables loadOrReport(final Path path, final String command)
    {
        try
        {
            return load(path);
        }
        catch (final FlowParseException ex)
        {
            System.err.println(command + ": flows refused: " + ex.getMessage());
        }
        catch (final IOException ex)
        {
            System.err.println(command + ": cannot read " + path + ": " + ex.getMessage());
        }
        return null;
    }
}
