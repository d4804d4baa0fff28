package dev.outpost.edge.ingest;

/**
 * An event that passed validation.
 *
 * @param stream its stream
 * @param id the client's event id, or null
 * @param json the event object as one line of compact JSON, starting with '{'
 */
public record ParsedEvent(String stream, String id, byte[] json) {}
