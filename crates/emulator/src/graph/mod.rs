//! Microsoft Graph v1.0 surface: path parsing, routing and the handlers per resource family.

pub mod delta;
pub mod items;
pub mod lists;
pub mod mail;
pub mod path;
pub mod permissions;
pub mod render;
pub mod resolve;
pub mod routes;
pub mod sites;
pub mod upload;
pub mod users;

use axum::http::Method;

use crate::ctx::Ctx;
use crate::error::{GraphError, GraphResult};
use routes::{ItemAction as A, Route as R};

pub fn not_implemented(what: &str) -> GraphError {
    GraphError::new(
        axum::http::StatusCode::NOT_IMPLEMENTED,
        "notSupported",
        format!("{what} is not implemented by the emulator."),
    )
}

/// Route a Graph request to its handler.
pub fn dispatch(ctx: &Ctx) -> GraphResult {
    let segs = path::split(&ctx.path);
    let route = routes::resolve(&segs).ok_or_else(|| {
        GraphError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Resource not found for the segment '{}'.", ctx.path.trim_start_matches('/')),
        )
    })?;
    let m = &ctx.method;
    let get = *m == Method::GET || *m == Method::HEAD;
    let post = *m == Method::POST;
    let put = *m == Method::PUT;
    let patch = *m == Method::PATCH;
    let del = *m == Method::DELETE;
    match route {
        R::Users if get => users::list(ctx),
        R::User(u) if get => users::get(ctx, &u),
        R::UserDrives(u) if get => users::drives(ctx, &u),
        R::SendMail(u) if post => mail::send_mail(ctx, &u),
        R::Messages(u) if post => mail::create_message(ctx, &u),
        R::Messages(u) if get => mail::list_messages(ctx, &u),
        R::Message(u, id) if get => mail::get_message(ctx, &u, &id),
        R::MessageSend(u, id) if post => mail::send_message(ctx, &u, &id),
        R::MessageAttachments(u, id) if post => mail::add_attachment(ctx, &u, &id),
        R::MessageAttachmentUpload(u, id) if post => mail::create_attachment_upload(ctx, &u, &id),
        R::Drive(d) if get => items::get_drive(ctx, &d),
        R::DriveList(d) if get => items::get_drive_list(ctx, &d),
        R::Item(sel, action) => match action {
            A::Get if get => items::get_item(ctx, &sel),
            A::Get if patch => items::patch_item(ctx, &sel),
            A::Get if del => items::delete_item(ctx, &sel),
            A::Children if get => items::list_children(ctx, &sel),
            A::Children if post => items::create_child(ctx, &sel),
            A::Content if get => items::get_content(ctx, &sel),
            A::Content if put => items::put_content(ctx, &sel),
            A::Delta if get => delta::drive_delta(ctx, &sel),
            A::Versions if get => items::list_versions(ctx, &sel),
            A::Version(v) if get => items::get_version(ctx, &sel, &v),
            A::VersionContent(v) if get => items::version_content(ctx, &sel, &v),
            A::RestoreVersion(v) if post => items::restore_version(ctx, &sel, &v),
            A::Permissions if get => permissions::list(ctx, &sel),
            A::Permission(p) if get => permissions::get(ctx, &sel, &p),
            A::Permission(p) if patch => permissions::update(ctx, &sel, &p),
            A::Permission(p) if del => permissions::delete(ctx, &sel, &p),
            A::Invite if post => permissions::invite(ctx, &sel),
            A::CreateLink if post => permissions::create_link(ctx, &sel),
            A::CreateUploadSession if post => upload::create_session(ctx, &sel),
            A::Copy if post => permissions::copy(ctx, &sel),
            A::ListItem if get => items::get_item_list_item(ctx, &sel),
            _ => Err(method_not_allowed()),
        },
        R::Sites if get => sites::search(ctx),
        R::GetAllSites if get => sites::get_all(ctx),
        R::Site(s) if get => sites::get(ctx, &s),
        R::SiteSubsites(s) if get => sites::subsites(ctx, &s),
        R::SiteDrives(s) if get => sites::drives(ctx, &s),
        R::SiteLists(s) if get => lists::list_lists(ctx, &s),
        R::SiteLists(s) if post => lists::create_list(ctx, &s),
        R::List(s, l) if get => lists::get_list(ctx, &s, &l),
        R::ListItems(s, l) if get => lists::list_items(ctx, &s, &l),
        R::ListItems(s, l) if post => lists::create_item(ctx, &s, &l),
        R::ListItemsDelta(s, l) if get => lists::items_delta(ctx, &s, &l),
        R::ListItem(s, l, i) if get => lists::get_item(ctx, &s, &l, &i),
        R::ListItem(s, l, i) if patch => lists::update_item(ctx, &s, &l, &i),
        R::ListItem(s, l, i) if del => lists::delete_item(ctx, &s, &l, &i),
        R::ListItemFields(s, l, i) if patch => lists::update_fields(ctx, &s, &l, &i),
        R::ListItemFields(s, l, i) if get => lists::get_fields(ctx, &s, &l, &i),
        R::ListItemVersions(s, l, i) if get => lists::item_versions(ctx, &s, &l, &i),
        _ => Err(method_not_allowed()),
    }
}

fn method_not_allowed() -> GraphError {
    GraphError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        "The HTTP method is not allowed for the requested resource.",
    )
}
