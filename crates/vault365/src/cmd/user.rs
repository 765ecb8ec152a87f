//! `vault365 user add|list|passwd|remove|unlock`: local accounts for the REST API (`POST /vN/token` with grant_type=password).

use std::io::BufRead;
use std::net::IpAddr;

use anyhow::{bail, Context};

use crate::config::Config;
use crate::setup;

/// The password from `--password`, else the first line of standard input (so it stays out of the process list and
/// shell history: `vault365 user add --name admin < password.txt`).
fn password_from(given: Option<String>) -> anyhow::Result<String> {
    let password = match given {
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
    Ok(password)
}

/// Creates an account (passwords of at least 12 characters).
pub async fn add(cfg: &Config, name: &str, password: Option<String>) -> anyhow::Result<()> {
    let password = password_from(password)?;
    let catalog = setup::catalog(cfg).await?;
    let user = api::store::accounts::add_user(catalog.pool(), name, &password).await?;
    println!("user added name={} id={}", user.name, user.id);
    Ok(())
}

/// Replaces an account's password (same rules as `add`); its tokens are revoked, so every client logs on again.
pub async fn passwd(cfg: &Config, name: &str, password: Option<String>) -> anyhow::Result<()> {
    let password = password_from(password)?;
    let catalog = setup::catalog(cfg).await?;
    api::store::accounts::set_password(catalog.pool(), name, &password).await?;
    println!("password changed name={name}");
    Ok(())
}

/// Prints every account, one line each.
pub async fn list(cfg: &Config) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    for u in api::store::accounts::list_users(catalog.pool()).await? {
        println!("user name={} id={} created={}", u.name, u.id, u.created_at.format("%Y-%m-%dT%H:%M:%SZ"));
    }
    Ok(())
}

/// Removes an account and its tokens.
pub async fn remove(cfg: &Config, name: &str) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let user = api::store::accounts::remove_user(catalog.pool(), name).await?;
    println!("user removed name={} id={}", user.name, user.id);
    Ok(())
}

/// Clears the logon lockout of an account name and/or a client address (after failed logons).
pub async fn unlock(cfg: &Config, name: Option<&str>, address: Option<&str>) -> anyhow::Result<()> {
    if name.is_none() && address.is_none() {
        bail!("give --name NAME and/or --address IP");
    }
    let address: Option<IpAddr> = address
        .map(|a| a.trim().parse().with_context(|| format!("--address: '{a}' is not an IP address")))
        .transpose()?;
    let catalog = setup::catalog(cfg).await?;
    if let Some(name) = name {
        let cleared = api::store::logon_throttle::unlock_account(catalog.pool(), name).await?;
        println!("{} name={name}", if cleared { "unlocked" } else { "not locked" });
    }
    if let Some(ip) = address {
        let cleared = api::store::logon_throttle::unlock_address(catalog.pool(), ip).await?;
        println!("{} address={ip}", if cleared { "unlocked" } else { "not locked" });
    }
    Ok(())
}
