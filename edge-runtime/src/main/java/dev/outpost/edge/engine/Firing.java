package dev.outpost.edge.engine;

import java.util.List;

/**
 * A rule that fired on one event.
 *
 * @param rule the rule
 * @param score the sum of the weights of the top-level conditions that held
 * @param conditions the top-level conditions that held, in declaration order
 * @param groupKey the value of the rule's {@code group_by} field as a string (a string as is, a number as written, true,
 *     false or null), or null when the rule has no {@code group_by}, the field is missing or holds an object or array
 */
public record Firing(RuleSpec rule, double score, List<FiredCondition> conditions, String groupKey) {}
