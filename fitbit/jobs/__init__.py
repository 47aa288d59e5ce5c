"""The two domain functions the entry points call: extract one unit, transform-load one object."""
