//! `vault365 user add`: local accounts for the REST API (`POST /vN/token` with grant_type=password).

use std::io::BufRead;

use anyhow::{bail, Context};

use crate::config::Config;
use crate::setup;

/// Creates an account. Without `--password`, the password is the first line of standard input (so it stays out of
/// the process list and shell history: `vault365 user add --name admin < password.txt`).
pub async fn add(cfg: &Config, name: &str, password: Option<String>) -> anyhow::Result<()> {
    let password = match password {
        Some(p) => p,
        None => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    if password.is_empty() {
        bail!("empty password: give --password or write it to standard input");
    }
    let catalog = setup::catalog(cfg).await?;
    let user = api::accounts::add_user(catalog.pool(), name, &password).await?;
    println!("user added name={} id={}", user.name, user.id);
    Ok(())
}
