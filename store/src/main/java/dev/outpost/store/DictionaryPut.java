package dev.outpost.store;

/**
 * What storing a dictionary in the catalog came to ({@link Catalog#storeDictionary}). The catalog keeps one row per
 * id and never overwrites one: {@link #row()} is the row that holds the id afterwards.
 */
public sealed interface DictionaryPut {
    /** The row holding the dictionary's id now. */
    Catalog.DictionaryInfo row();

    /** Stored now, as {@code row}. */
    record Stored(Catalog.DictionaryInfo row) implements DictionaryPut {}

    /** The same dictionary (same bytes) was stored before, as {@code row} (its stream and purpose may differ). */
    record AlreadyStored(Catalog.DictionaryInfo row) implements DictionaryPut {}

    /**
     * Another dictionary holds the id (a collision of the 32-bit content hash, or a row whose bytes no longer match
     * its id); nothing was stored.
     */
    record IdTaken(Catalog.DictionaryInfo row) implements DictionaryPut {}
}
