package dev.outpost.governor;

/**
 * One dimension in one sample.
 *
 * @param dimension the dimension
 * @param usage the measured usage in the dimension's unit
 * @param limit the budget's limit in the same unit
 * @param pressure usage / limit
 */
public record Reading(Dimension dimension, long usage, long limit, double pressure) {}
