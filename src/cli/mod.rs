//! The command line: one file per subcommand, each turning arguments into a call of the
//! library and a result into an exit code.

mod color;
mod config;
mod countersign;
mod generate;
mod hook;
mod keygen;
mod ledger;
mod merge;
mod output;
mod rules;
mod scan;
mod secret_args;
mod verify;

use clap::{CommandFactory, Parser, Subcommand};

use crate::verdict::EXIT_ERROR;

#[derive(Debug, Parser)]
#[command(
    name = "scour",
    version,
    about = "Prove a revoked secret is gone: find every copy and encoding of it, or show exactly what was covered.",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// One value per process, parsed once: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Scan paths for every encoding of revoked secrets and write a coverage-accounted report.
    Scan(scan::ScanArgs),
    /// Keep a revocation ledger: fingerprints of revoked secrets, never the secrets.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// Show and test the token-format rules that hash mode extracts candidates with.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Make an Ed25519 key pair (NAME.key, NAME.pub) for signing reports.
    Keygen(keygen::KeygenArgs),
    /// Check a signed report and a closure policy: exit 0 only if the finding may close.
    Verify(verify::VerifyArgs),
    /// Merge the signed reports of all shards of a sweep into one signed report.
    Merge(merge::MergeArgs),
    /// Add a second signature to a signed report (separation of duties).
    Countersign(countersign::CountersignArgs),
    /// Pre-commit check against the committed ledger (no plaintext), and a git hook installer.
    #[command(subcommand)]
    Hook(hook::HookCommand),
    /// Shell completions, man pages, and the report's JSON Schema.
    #[command(subcommand)]
    Generate(generate::GenerateCommand),
}

/// The whole command-line definition, for completions and man pages.
pub(crate) fn command() -> clap::Command {
    Cli::command()
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> i32 {
    // Before any argument is parsed or any secret read.
    crate::redact::install_panic_hook();
    for problem in crate::hardening::harden_process() {
        eprintln!("scour: warning: {problem}");
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { EXIT_ERROR } else { 0 };
        }
    };
    let result = match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Ledger(command) => ledger::run(command),
        Command::Rules(command) => rules::run(command),
        Command::Keygen(args) => keygen::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Countersign(args) => countersign::run(args),
        Command::Hook(command) => hook::run(command),
        Command::Generate(command) => generate::run(command),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            let message = format!("scour: error: {error:#}");
            eprintln!("{}", crate::redact::text(&message));
            EXIT_ERROR
        }
    }
}
