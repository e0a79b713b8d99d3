// Replaced by the index implementation.
