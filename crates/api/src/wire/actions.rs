//! The bodies of the v2–v5 `POST …/Action` endpoints: one property naming the action (any case), whose value holds
//! the options the v6+ operation of the same scope takes. `resources::actions` picks the property (a bare
//! `{from, to, …}` is `sendTo`) and reads its value as the variant's options.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::edge::error::ApiError;
use crate::edge::lenient::Obj;
use crate::wire::restore::{CopyTo, RestoreToOriginal, SharePointRestore};
use crate::wire::selection::{SaveOptions, SendOptions};

/// A OneDrive `…/Action` body (restores also carry the credentials of `RESTRestoreToOriginal`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum OneDriveAction {
    Save(SaveOptions),
    SendTo(SendOptions),
    RestoreToOriginalLocation(RestoreToOriginal),
    CopyTo(CopyTo),
}

impl OneDriveAction {
    /// The action names, in the spelling of the vendor's documents.
    pub const NAMES: &'static [&'static str] = &["save", "restoreToOriginalLocation", "copyTo", "sendTo"];

    /// Action `name` (one of [`OneDriveAction::NAMES`]) with the content of its property.
    pub fn of(name: &str, opts: &Obj) -> Result<OneDriveAction, ApiError> {
        Ok(match name {
            "save" => OneDriveAction::Save(opts.to_typed()?),
            "sendTo" => OneDriveAction::SendTo(opts.to_typed()?),
            "restoreToOriginalLocation" => OneDriveAction::RestoreToOriginalLocation(opts.to_typed()?),
            "copyTo" => OneDriveAction::CopyTo(opts.to_typed()?),
            other => return Err(ApiError::bad_request(format!("action '{other}' is not supported yet"))),
        })
    }
}

/// A SharePoint `…/Action` body (`restoreTo` also carries the credentials).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SharePointAction {
    Save(SaveOptions),
    SendTo(SendOptions),
    RestoreTo(SharePointRestore),
}

impl SharePointAction {
    /// The action names, in the spelling of the vendor's documents.
    pub const NAMES: &'static [&'static str] = &["save", "restoreTo", "sendTo"];

    /// Action `name` (one of [`SharePointAction::NAMES`]) with the content of its property.
    pub fn of(name: &str, opts: &Obj) -> Result<SharePointAction, ApiError> {
        Ok(match name {
            "save" => SharePointAction::Save(opts.to_typed()?),
            "sendTo" => SharePointAction::SendTo(opts.to_typed()?),
            "restoreTo" => SharePointAction::RestoreTo(opts.to_typed()?),
            other => return Err(ApiError::bad_request(format!("action '{other}' is not supported yet"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::lenient::Body;

    #[test]
    fn each_action_reads_its_own_options() {
        let opts = Body::parse(br#"{"AsZip": "true", "to": "a@b.c"}"#).unwrap();
        assert!(
            matches!(OneDriveAction::of("save", &opts).unwrap(), OneDriveAction::Save(o) if o.as_zip == Some(true))
        );
        assert!(
            matches!(SharePointAction::of("sendTo", &opts).unwrap(), SharePointAction::SendTo(o) if o.to == "a@b.c")
        );
        let bad = Body::parse(br#"{"documentVersion": "Newest"}"#).unwrap();
        let e = OneDriveAction::of("copyTo", &bad).unwrap_err();
        assert!(e.message.contains("documentVersion"), "{}", e.message);
    }
}
