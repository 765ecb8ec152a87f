//! What a backup run covers: a job's `backupType`, selected and excluded items ([`crate::job::JobSettings`]) as the
//! run applies them. Users are chosen by their Entra id (their OneDrive), sites by their Graph site id together with
//! their subsites (a site's collection: the second part of its id, which its subsites share).
//!
//! Only what is in scope is read, and only what is in scope can be found deleted: a OneDrive or site the job does not
//! cover keeps its catalog history untouched.

use std::collections::HashSet;

use repo::catalog::ContainerInfo;

use crate::job::{BackupType, JobItem, JobItemType, JobSettings};

/// What a backup covers; the default is the whole organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupScope {
    /// `None`: every user and site; otherwise only these users and site collections.
    selected: Option<Chosen>,
    excluded: Chosen,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Chosen {
    users: HashSet<String>,
    collections: HashSet<String>,
}

impl Chosen {
    fn of(items: &[JobItem]) -> Chosen {
        let mut c = Chosen::default();
        for i in items {
            match i.r#type {
                JobItemType::User => c.users.insert(i.id.clone()),
                JobItemType::Site => c.collections.insert(collection(&i.id).to_string()),
            };
        }
        c
    }
}

/// The site collection of a Graph site id (`host,collection,web`); a bare id is its own collection.
fn collection(site_id: &str) -> &str {
    site_id.split(',').nth(1).unwrap_or(site_id)
}

impl BackupScope {
    /// The scope of a job's settings.
    pub fn of(settings: &JobSettings) -> BackupScope {
        let selected = match settings.backup_type {
            BackupType::EntireOrganization => None,
            BackupType::SelectedItems => Some(Chosen::of(&settings.selected_items)),
        };
        BackupScope { selected, excluded: Chosen::of(&settings.excluded_items) }
    }

    /// Whether the run backs up the OneDrive of user `id`.
    pub fn user(&self, id: &str) -> bool {
        !self.excluded.users.contains(id) && self.selected.as_ref().is_none_or(|s| s.users.contains(id))
    }

    /// Whether the run backs up site `id` (with its lists and libraries).
    pub fn site(&self, id: &str) -> bool {
        let c = collection(id);
        !self.excluded.collections.contains(c) && self.selected.as_ref().is_none_or(|s| s.collections.contains(c))
    }

    /// Whether a catalog container is one this run covers.
    pub fn covers(&self, info: &ContainerInfo) -> bool {
        match info {
            ContainerInfo::OneDrive(d) => self.user(&d.user_id),
            ContainerInfo::Site(s) => self.site(&s.site_id),
            ContainerInfo::List(l) => self.site(&l.site_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(t: JobItemType, id: &str) -> JobItem {
        JobItem { r#type: t, id: id.into() }
    }

    #[test]
    fn selected_and_excluded_users_and_site_collections() {
        let whole = BackupScope::default();
        assert!(whole.user("u1") && whole.site("h,c1,w1"));
        let settings = JobSettings {
            backup_type: BackupType::SelectedItems,
            selected_items: vec![
                item(JobItemType::User, "u1"),
                item(JobItemType::User, "u2"),
                item(JobItemType::Site, "h,c1,w1"),
            ],
            excluded_items: vec![item(JobItemType::User, "u2")],
            ..JobSettings::default()
        };
        let s = BackupScope::of(&settings);
        assert!(s.user("u1") && !s.user("u2") && !s.user("u3"), "excluded wins over selected");
        assert!(s.site("h,c1,w1") && s.site("h,c1,sub"), "a selected site brings its subsites");
        assert!(!s.site("h,c2,w2"));
        let all_but =
            JobSettings { excluded_items: vec![item(JobItemType::Site, "h,c2,w2")], ..JobSettings::default() };
        let s = BackupScope::of(&all_but);
        assert!(s.user("anyone") && s.site("h,c1,w1") && !s.site("h,c2,other-web"));
    }
}
