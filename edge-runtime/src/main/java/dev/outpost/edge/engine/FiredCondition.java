package dev.outpost.edge.engine;

/**
 * A top-level condition that held when its rule fired.
 *
 * @param condition its 1-based index ("2")
 * @param field its field path as declared, or null for a group (all, any, not)
 * @param weight its weight
 * @param z for an anomaly condition, the z-score of the event's value (infinite when the group's values had been
 *     constant); null for the other operators
 */
public record FiredCondition(String condition, String field, double weight, Double z) {

    /** A condition that is not an anomaly detector. */
    public FiredCondition(String condition, String field, double weight) {
        this(condition, field, weight, null);
    }
}
