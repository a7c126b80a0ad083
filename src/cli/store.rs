//! `deskbridge store export` / `import`: the whole store of a configuration as JSON lines, out
//! and in (see `store::transfer`), to move from sled to PostgreSQL.

use super::{load_config, runtime};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub(super) enum StoreCommand {
    /// Write every job, artifact and stored value of the configured store (stop the service
    /// first when it is sled).
    Export {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where to write; default standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Read an export into the configured store.
    Import {
        #[arg(long)]
        config: Option<PathBuf>,
        /// What to read; default standard input.
        #[arg(long)]
        input: Option<PathBuf>,
    },
}

pub(super) fn run(command: StoreCommand) -> Result<(), String> {
    let (config, file, export) = match command {
        StoreCommand::Export { config, output } => (config, output, true),
        StoreCommand::Import { config, input } => (config, input, false),
    };
    let cfg = load_config(config.as_deref())?;
    runtime()?.block_on(async move {
        let store = crate::store::Store::open(&cfg.store, &cfg.server.data_dir)
            .await
            .map_err(|e| e.to_string())?;
        let n = if export {
            crate::store::transfer::export_to(&store, file.as_deref()).await
        } else {
            crate::store::transfer::import_from(&store, file.as_deref()).await
        }?;
        store.flush_blocking().map_err(|e| e.to_string())?;
        eprintln!(
            "{} {} jobs, {} artifacts, {} stored values ({} store)",
            if export { "exported" } else { "imported" },
            n.jobs,
            n.artifacts,
            n.values,
            store.kind()
        );
        Ok(())
    })
}
