//! `verdict token create|list|revoke`: manage API tokens directly in the
//! database (how the first admin token is made).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::exit;
use crate::api::tokens::{TokenInfo, issue_token};
use crate::config::{self, Overrides, Secret};
use crate::store::{Role, Store, utc_now};

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
    /// TOML configuration file (for the database URL).
    #[arg(long, global = true, env = "VERDICT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL; overrides the config (default sqlite://verdict.db).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (only its hash is stored).
    Create {
        /// viewer (read), operator (experiments) or admin (tokens, config).
        #[arg(long)]
        role: Role,
        /// A name to recognise the token by. Default: the role.
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens (never the tokens themselves).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id.
    Revoke {
        /// The token's id (from `verdict token list`).
        id: uuid::Uuid,
    },
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        Role::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

pub fn run(args: &TokenArgs) -> i32 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run_with(args, &mut stdout.lock(), &mut stderr.lock())
}

/// Runs the command writing to the given streams; returns the exit code.
pub fn run_with(args: &TokenArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let config = match config::load_from_process(
        args.config.as_deref(),
        Overrides {
            database_url: args.database_url.clone().map(Secret::new),
            listen: None,
        },
    ) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "verdict token: {e}");
            return exit::INVALID;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "verdict token: cannot start the async runtime: {e}");
            return exit::FAIL;
        }
    };
    runtime.block_on(async {
        let store = match Store::connect(config.database_url.expose()).await {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(err, "verdict token: {e}");
                return exit::FAIL;
            }
        };
        let code = match &args.command {
            TokenCommand::Create { role, name } => {
                match issue_token(&store, *role, name.as_deref()).await {
                    Ok(t) => {
                        let _ = writeln!(out, "{}", t.token);
                        let _ = writeln!(
                            err,
                            "created {} token {:?} (id {}); it is shown only this once",
                            t.role, t.name, t.id
                        );
                        exit::OK
                    }
                    Err(e) => {
                        let _ = writeln!(err, "verdict token create: {e}");
                        exit::FAIL
                    }
                }
            }
            TokenCommand::List { json } => match store.list_tokens().await {
                Ok(rows) => {
                    let infos: Vec<TokenInfo> = rows.into_iter().map(TokenInfo::from).collect();
                    if *json {
                        let _ = writeln!(
                            out,
                            "{}",
                            serde_json::to_string_pretty(&infos).unwrap_or_default()
                        );
                    } else {
                        let _ = writeln!(
                            out,
                            "{:<36}  {:<8}  {:<25}  {:<25}  NAME",
                            "ID", "ROLE", "CREATED", "REVOKED"
                        );
                        for t in &infos {
                            let _ = writeln!(
                                out,
                                "{:<36}  {:<8}  {:<25}  {:<25}  {}",
                                t.id,
                                t.role,
                                t.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
                                t.revoked_at
                                    .map(|r| r.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                                    .unwrap_or_else(|| "-".to_owned()),
                                t.name
                            );
                        }
                    }
                    exit::OK
                }
                Err(e) => {
                    let _ = writeln!(err, "verdict token list: {e}");
                    exit::FAIL
                }
            },
            TokenCommand::Revoke { id } => match store.revoke_token(*id, utc_now()).await {
                Ok(Some(t)) => {
                    let _ = writeln!(err, "revoked {} token {:?} (id {})", t.role, t.name, t.id);
                    exit::OK
                }
                Ok(None) => {
                    let _ = writeln!(err, "verdict token revoke: no token with id {id}");
                    exit::INVALID
                }
                Err(e) => {
                    let _ = writeln!(err, "verdict token revoke: {e}");
                    exit::FAIL
                }
            },
        };
        store.close().await;
        code
    })
}
