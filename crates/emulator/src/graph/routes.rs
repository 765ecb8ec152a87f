//! Typed Graph routes, resolved from path segments.

use super::path::Seg;

/// Which user: a key (id / UPN / mail) or the signed-in user (`/me`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSel {
    Key(String),
    Me,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteSel {
    Root,
    Id(String),
    /// `/sites/{hostname}:/{server-relative-path}`
    Path {
        host: String,
        path: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriveSel {
    Id(String),
    User(UserSel),
    Site(SiteSel),
    List(SiteSel, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemBase {
    Root,
    Id(String),
}

/// A drive item addressed by id or root, optionally followed by a relative path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSel {
    pub drive: DriveSel,
    pub base: ItemBase,
    pub path: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemAction {
    Get,
    Children,
    Content,
    Delta,
    Versions,
    Version(String),
    VersionContent(String),
    RestoreVersion(String),
    Permissions,
    Permission(String),
    Invite,
    CreateLink,
    CreateUploadSession,
    Copy,
    ListItem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Users,
    User(UserSel),
    UserDrives(UserSel),
    SendMail(UserSel),
    Messages(UserSel),
    Message(UserSel, String),
    MessageSend(UserSel, String),
    MessageAttachments(UserSel, String),
    MessageAttachmentUpload(UserSel, String),
    Drive(DriveSel),
    DriveList(DriveSel),
    Item(ItemSel, ItemAction),
    Sites,
    GetAllSites,
    Site(SiteSel),
    SiteSubsites(SiteSel),
    SiteDrives(SiteSel),
    SiteLists(SiteSel),
    List(SiteSel, String),
    ListItems(SiteSel, String),
    ListItemsDelta(SiteSel, String),
    ListItem(SiteSel, String, String),
    ListItemFields(SiteSel, String, String),
    ListItemVersions(SiteSel, String, String),
}

fn name(s: &Seg) -> Option<&str> {
    match s {
        Seg::Name(n) => Some(n.as_str()),
        Seg::Colon(..) => None,
    }
}

/// Resolve segments to a route; `None` means "no such resource" (400 in Graph's words).
pub fn resolve(segs: &[Seg]) -> Option<Route> {
    let first = name(segs.first()?)?;
    match first.to_ascii_lowercase().as_str() {
        "me" => user_routes(UserSel::Me, &segs[1..]),
        "users" => match segs.get(1) {
            None => Some(Route::Users),
            Some(Seg::Name(k)) => user_routes(UserSel::Key(k.clone()), &segs[2..]),
            Some(Seg::Colon(..)) => None,
        },
        "drives" => {
            let id = name(segs.get(1)?)?.to_string();
            drive_routes(DriveSel::Id(id), &segs[2..])
        }
        "sites" => site_routes(&segs[1..]),
        _ => None,
    }
}

fn user_routes(u: UserSel, rest: &[Seg]) -> Option<Route> {
    let Some(first) = rest.first() else {
        return Some(Route::User(u));
    };
    match name(first)?.to_ascii_lowercase().as_str() {
        "drive" => drive_routes(DriveSel::User(u), &rest[1..]),
        "drives" if rest.len() == 1 => Some(Route::UserDrives(u)),
        "sendmail" if rest.len() == 1 => Some(Route::SendMail(u)),
        "messages" => match rest.len() {
            1 => Some(Route::Messages(u)),
            2 => Some(Route::Message(u, name(&rest[1])?.to_string())),
            3 if name(&rest[2])?.eq_ignore_ascii_case("send") => {
                Some(Route::MessageSend(u, name(&rest[1])?.to_string()))
            }
            3 if name(&rest[2])?.eq_ignore_ascii_case("attachments") => {
                Some(Route::MessageAttachments(u, name(&rest[1])?.to_string()))
            }
            4 if name(&rest[2])?.eq_ignore_ascii_case("attachments")
                && name(&rest[3])?.eq_ignore_ascii_case("createUploadSession") =>
            {
                Some(Route::MessageAttachmentUpload(u, name(&rest[1])?.to_string()))
            }
            _ => None,
        },
        _ => None,
    }
}

fn drive_routes(d: DriveSel, rest: &[Seg]) -> Option<Route> {
    let Some(first) = rest.first() else {
        return Some(Route::Drive(d));
    };
    let (base, path, after) = match first {
        Seg::Name(n) if n.eq_ignore_ascii_case("list") && rest.len() == 1 => return Some(Route::DriveList(d)),
        Seg::Name(n) if n.eq_ignore_ascii_case("root") => (ItemBase::Root, None, &rest[1..]),
        Seg::Colon(b, comps) if b.eq_ignore_ascii_case("root") => (ItemBase::Root, Some(comps.clone()), &rest[1..]),
        Seg::Name(n) if n.eq_ignore_ascii_case("items") => match rest.get(1)? {
            // `items/root` is Graph's alias of `root` (the SDKs address the root this way).
            Seg::Name(id) if id.eq_ignore_ascii_case("root") => (ItemBase::Root, None, &rest[2..]),
            Seg::Colon(id, comps) if id.eq_ignore_ascii_case("root") => {
                (ItemBase::Root, Some(comps.clone()), &rest[2..])
            }
            Seg::Name(id) => (ItemBase::Id(id.clone()), None, &rest[2..]),
            Seg::Colon(id, comps) => (ItemBase::Id(id.clone()), Some(comps.clone()), &rest[2..]),
        },
        _ => return None,
    };
    let sel = ItemSel { drive: d, base, path };
    let action = item_action(after)?;
    Some(Route::Item(sel, action))
}

fn item_action(rest: &[Seg]) -> Option<ItemAction> {
    let names: Vec<&str> = rest.iter().map(name).collect::<Option<Vec<_>>>()?;
    let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    Some(match l.as_slice() {
        [] => ItemAction::Get,
        ["children"] => ItemAction::Children,
        ["content"] => ItemAction::Content,
        [d] if *d == "delta" || d.starts_with("delta(") || d.starts_with("microsoft.graph.delta") => ItemAction::Delta,
        ["versions"] => ItemAction::Versions,
        ["versions", _] => ItemAction::Version(names[1].to_string()),
        ["versions", _, "content"] => ItemAction::VersionContent(names[1].to_string()),
        ["versions", _, r] if r.ends_with("restoreversion") => ItemAction::RestoreVersion(names[1].to_string()),
        ["permissions"] => ItemAction::Permissions,
        ["permissions", _] => ItemAction::Permission(names[1].to_string()),
        [a] if a.ends_with("invite") => ItemAction::Invite,
        [a] if a.ends_with("createlink") => ItemAction::CreateLink,
        [a] if a.ends_with("createuploadsession") => ItemAction::CreateUploadSession,
        [a] if a.ends_with("copy") => ItemAction::Copy,
        ["listitem"] => ItemAction::ListItem,
        _ => return None,
    })
}

fn site_routes(rest: &[Seg]) -> Option<Route> {
    let Some(first) = rest.first() else {
        return Some(Route::Sites);
    };
    let (site, after) = match first {
        Seg::Name(n) if n.eq_ignore_ascii_case("root") => (SiteSel::Root, &rest[1..]),
        Seg::Name(n) if n.eq_ignore_ascii_case("getAllSites") || n.eq_ignore_ascii_case("getAllSites()") => {
            return (rest.len() == 1).then_some(Route::GetAllSites)
        }
        Seg::Name(id) => (SiteSel::Id(id.clone()), &rest[1..]),
        Seg::Colon(host, comps) => {
            (SiteSel::Path { host: host.clone(), path: format!("/{}", comps.join("/")) }, &rest[1..])
        }
    };
    let Some(next) = after.first() else {
        return Some(Route::Site(site));
    };
    match name(next)?.to_ascii_lowercase().as_str() {
        "sites" if after.len() == 1 => Some(Route::SiteSubsites(site)),
        "drives" if after.len() == 1 => Some(Route::SiteDrives(site)),
        "drive" => drive_routes(DriveSel::Site(site), &after[1..]),
        "lists" => {
            let Some(list) = after.get(1) else {
                return Some(Route::SiteLists(site));
            };
            let list = name(list)?.to_string();
            let tail = &after[2..];
            match tail.first().map(name) {
                None => Some(Route::List(site, list)),
                Some(Some(t)) if t.eq_ignore_ascii_case("drive") => {
                    drive_routes(DriveSel::List(site, list), &tail[1..])
                }
                Some(Some(t)) if t.eq_ignore_ascii_case("items") => {
                    let lt: Vec<String> = tail[1..]
                        .iter()
                        .map(name)
                        .collect::<Option<Vec<_>>>()?
                        .into_iter()
                        .map(str::to_string)
                        .collect();
                    match lt.iter().map(|s| s.to_ascii_lowercase()).collect::<Vec<_>>().as_slice() {
                        [] => Some(Route::ListItems(site, list)),
                        [d] if d.starts_with("delta") => Some(Route::ListItemsDelta(site, list)),
                        [_] => Some(Route::ListItem(site, list, lt[0].clone())),
                        [_, f] if f == "fields" => Some(Route::ListItemFields(site, list, lt[0].clone())),
                        [_, v] if v == "versions" => Some(Route::ListItemVersions(site, list, lt[0].clone())),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::path::split;
    use super::*;

    #[test]
    fn resolves_common_routes() {
        let r = resolve(&split("/users/alex@contoso.com/drive/root:/A/b.txt:/content")).unwrap();
        assert_eq!(
            r,
            Route::Item(
                ItemSel {
                    drive: DriveSel::User(UserSel::Key("alex@contoso.com".into())),
                    base: ItemBase::Root,
                    path: Some(vec!["A".into(), "b.txt".into()])
                },
                ItemAction::Content
            )
        );
        assert!(matches!(resolve(&split("/drives/x/root/delta")), Some(Route::Item(_, ItemAction::Delta))));
        assert!(matches!(
            resolve(&split("/drives/x/items/01A/versions/2.0/restoreVersion")),
            Some(Route::Item(_, ItemAction::RestoreVersion(v))) if v == "2.0"
        ));
        assert!(matches!(resolve(&split("/sites/s1/lists/L/items/3/fields")), Some(Route::ListItemFields(..))));
        assert!(matches!(
            resolve(&split("/sites/s1/lists/L/drive/root/children")),
            Some(Route::Item(_, ItemAction::Children))
        ));
        assert!(matches!(
            resolve(&split("/me/messages/m1/attachments/createUploadSession")),
            Some(Route::MessageAttachmentUpload(..))
        ));
        assert!(resolve(&split("/nope")).is_none());
    }
}
