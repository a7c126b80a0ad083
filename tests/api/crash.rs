//! crash tests: see below
