//! Realistic content: message text, tool results, conversation history.
