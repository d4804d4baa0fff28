package dev.outpost.sync;

import dev.outpost.compress.Dictionary;

/** Where the push finds a stream's trained wire dictionary (the edge's catalog). Thread-safe. */
@FunctionalInterface
public interface WireDictionaries {
    /** None: batches are compressed without dictionaries. */
    WireDictionaries NONE = stream -> null;

    /** The newest wire dictionary trained for {@code stream}, or null if none. */
    Dictionary latest(String stream);
}
