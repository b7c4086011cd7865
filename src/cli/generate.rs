//! `scour generate`: shell completions, man pages and the report's JSON Schema, all made
//! from the definitions scour itself runs on (the clap command, the report types).

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Shell completions, on standard output (e.g. `scour generate completions bash >
    /// /usr/share/bash-completion/completions/scour`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man page (roff), on standard output; with --out-dir, one page per subcommand.
    Man {
        /// Write scour.1, scour-scan.1, ... into this directory.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// The JSON Schema of the report (`--format json`), as shipped in docs/report.schema.json.
    Schema,
}

pub fn run(command: GenerateCommand) -> anyhow::Result<i32> {
    let mut stdout = std::io::stdout().lock();
    match command {
        GenerateCommand::Completions { shell } => {
            let mut cmd = super::command();
            clap_complete::generate(shell, &mut cmd, "scour", &mut stdout);
        }
        GenerateCommand::Man { out_dir: None } => {
            clap_mangen::Man::new(super::command()).render(&mut stdout)?;
        }
        GenerateCommand::Man { out_dir: Some(dir) } => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| anyhow::anyhow!("could not create {}: {e}", dir.display()))?;
            clap_mangen::generate_to(super::command(), &dir).map_err(|e| {
                anyhow::anyhow!("could not write man pages to {}: {e}", dir.display())
            })?;
        }
        GenerateCommand::Schema => stdout.write_all(&crate::report::schema::render())?,
    }
    stdout.flush()?;
    Ok(0)
}
