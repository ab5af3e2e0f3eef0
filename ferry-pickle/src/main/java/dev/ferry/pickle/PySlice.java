package dev.ferry.pickle;

/**
 * A Python {@code slice}; a null component is Python's {@code None}, as in {@code slice(1, None)}.
 * The components are decoded values, usually {@code Integer} or null.
 */
public record PySlice(Object start, Object stop, Object step) {}
