package dev.outpost.compress;

/** Finds a dictionary by id when a frame names one. */
@FunctionalInterface
public interface DictionaryResolver {
    /** The dictionary with {@code id}, or null if this node does not have it. */
    Dictionary find(long id);

    /** Knows no dictionary. */
    DictionaryResolver NONE = id -> null;
}
