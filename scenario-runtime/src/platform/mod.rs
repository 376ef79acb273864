//! Platform profiles: endpoints, auth headers, protocols, limits and extra attributes.
