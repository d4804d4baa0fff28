package dev.outpost.edge.engine;

/**
 * A top-level condition that held when its rule fired.
 *
 * @param condition its 1-based index ("2")
 * @param field its field path as declared, or null for a group (all, any, not)
 * @param weight its weight
 */
public record FiredCondition(String condition, String field, double weight) {}
