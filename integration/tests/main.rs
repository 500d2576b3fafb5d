//! Wire-level tests of the gateway against real backends, the pair that AGAP_TEST_BACKENDS selects
//! (harness.rs; one test binary, habit 8 of GUIDE.md).

mod harness;

mod auth;
mod cli;
mod collections;
mod configuration;
mod dav;
mod delivery;
mod demo;
mod docs;
mod engine;
mod examples;
mod files;
mod files_items;
mod filt;
mod filters;
mod folders;
mod hostile;
mod hostile_dav;
mod hostile_memory;
mod hostile_records;
mod hostile_secrets;
mod limits;
mod load;
mod messages;
mod notes;
mod presence;
mod retr;
mod rights;
mod stor;
mod transcripts;
mod transport;
