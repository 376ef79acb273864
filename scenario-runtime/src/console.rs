//! Renders a trace as a readable tree for the console platform.
