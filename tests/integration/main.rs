//! End-to-end tests on the built-in sample archive: corpus → indexer → search, and the CLI.

mod support;
use support::*;

mod cli;
mod coverage;
mod default_index;
mod diff_budget;
mod exports;
mod git;
mod git_objects;
mod incremental;
mod instant_range;
mod integrity;
mod left_out;
mod matching;
mod messages;
mod names;
mod robustness;
mod runs;
mod search;
mod shared_texts;
mod snapshots;
mod time_travel;
mod versions;
