//! The scenario language (documentation only).
