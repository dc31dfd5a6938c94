//! `pli cda …`: health documents. Owned by the pli-cda work (issue 3).

use std::process::ExitCode;

use clap::Subcommand;

/// Subcommands of `pli cda`.
#[derive(Debug, Subcommand)]
pub enum CdaCommand {}

/// Runs a `pli cda` subcommand.
pub fn run(cmd: CdaCommand) -> anyhow::Result<ExitCode> {
    match cmd {}
}
