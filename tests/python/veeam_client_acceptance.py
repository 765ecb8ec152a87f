#!/usr/bin/env python3
"""Acceptance: the independent Veeam REST client `veeam-365` (PyPI, generated from the vendor's OpenAPI documents) used
UNCHANGED against `vault365 demo`, once per API era it speaks (v6, v7, v8).

Run by crates/vault365/tests/veeam_client.rs:

    veeam_client_acceptance.py --url https://127.0.0.1:PORT --user admin --password P --emulator http://127.0.0.1:E

Per version: log on, list organizations, explore OneDrive and SharePoint, browse OneDrives, documents, folders,
versions, SharePoint sites, lists, items and attachments, save (bytes compared with the emulator's), put SMTP settings
and send (the message arrives at a real SMTP server started here), restore to the original location and copyTo
(checked in the emulated tenant), read events and statistics, stop the sessions. In v8 also: create a scheduled
backup job, start it, follow its job session to the end, read its log, remove the job.

Every step is checked; a failing step is recorded and the run goes on with what does not depend on it, so one run
lists every incompatibility. The exit status is 1 when anything failed. The client is never patched: where its
generated code cannot read an answer (a binary body), the request is still built by the client's own generated
`_get_kwargs` and sent through its authenticated HTTP client, and only the body is read here.
"""

import argparse
import asyncio
import datetime
import email
import email.policy
import importlib
import io
import socket
import sys
import time
import traceback
import zipfile

import httpx
from aiosmtpd.controller import Controller
from veeam_365.client import VeeamClient
from veeam_365.discovery import detect_api_version

FAILURES = []
PASSED = []
RUN = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")


class StepFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise StepFailed(what)


async def step(name, coro):
    """Run one check; record its outcome. Returns the coroutine's value, or None when it failed."""
    try:
        value = await coro
    except Exception as err:  # every failure is reported, whatever raised it
        detail = str(err) if isinstance(err, StepFailed) else "".join(traceback.format_exception(err)).strip()
        FAILURES.append(f"{name}: {detail}")
        print(f"FAIL {name}: {detail}", flush=True)
        return None
    PASSED.append(name)
    print(f"ok   {name}", flush=True)
    return value


# ---------------------------------------------------------------------------------------------------------------
# The emulated tenant: what the server's answers are compared with.
# ---------------------------------------------------------------------------------------------------------------


class Tenant:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.http = httpx.AsyncClient(timeout=60, follow_redirects=True)
        self.creds = None
        self._token = None

    async def start(self):
        r = await self.http.get(f"{self.base}/_emulator/credentials")
        r.raise_for_status()
        self.creds = r.json()

    async def token(self):
        """An application token of the tenant's default app, for reading and changing the tenant behind the server's
        back."""
        if self._token is None:
            r = await self.http.post(
                self.creds["tokenEndpoint"],
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.creds["clientId"],
                    "client_secret": self.creds["clientSecret"],
                    "scope": "https://graph.microsoft.com/.default",
                },
            )
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return self._token

    def graph(self):
        return self.creds["graphBaseUrl"].rstrip("/")

    async def graph_get(self, path, **kw):
        r = await self.http.get(f"{self.graph()}{path}", headers={"Authorization": f"Bearer {await self.token()}"}, **kw)
        r.raise_for_status()
        return r

    async def content(self, drive_id, item_id):
        return (await self.graph_get(f"/drives/{drive_id}/items/{item_id}/content")).content

    async def put_content(self, drive_id, item_id, data):
        r = await self.http.put(
            f"{self.graph()}/drives/{drive_id}/items/{item_id}/content",
            headers={"Authorization": f"Bearer {await self.token()}", "Content-Type": "application/octet-stream"},
            content=data,
        )
        r.raise_for_status()

    async def item(self, drive_id, item_id):
        return (await self.graph_get(f"/drives/{drive_id}/items/{item_id}")).json()

    async def children_by_path(self, drive_id, path):
        r = await self.http.get(
            f"{self.graph()}/drives/{drive_id}/root:/{path}:/children",
            headers={"Authorization": f"Bearer {await self.token()}"},
        )
        if r.status_code == 404:
            return []
        r.raise_for_status()
        return r.json().get("value", [])

    async def attachment(self, site_url, list_name, item_title, file_name):
        """An attachment's bytes through SharePoint REST, as the tenant holds them now. The item's number comes from
        Graph; SharePoint refuses app-only secret tokens, so a user signs in (any user may read the team lists)."""
        host, _, path = site_url.split("/_sp/", 1)[1].partition("/")
        site = (await self.graph_get(f"/sites/{host}:/{path}" if path else f"/sites/{host}")).json()
        items = (await self.graph_get(f"/sites/{site['id']}/lists/{list_name}/items", params={"expand": "fields"}))
        number = next(i["id"] for i in items.json()["value"] if i["fields"].get("Title") == item_title)
        user = self.creds["users"][0]
        r = await self.http.post(
            self.creds["tokenEndpoint"],
            data={
                "grant_type": "password",
                "client_id": self.creds["clientId"],
                "client_secret": self.creds["clientSecret"],
                "username": user["userPrincipalName"],
                "password": user["password"],
                "scope": f"https://{host}/.default",
            },
        )
        r.raise_for_status()
        quoted = file_name.replace("'", "''")
        r = await self.http.get(
            f"{site_url}/_api/web/lists/GetByTitle('{list_name}')/items({number})/AttachmentFiles('{quoted}')/$value",
            headers={"Authorization": f"Bearer {r.json()['access_token']}"},
        )
        r.raise_for_status()
        return r.content

    def owner(self, onedrive):
        """The tenant user whose OneDrive the server lists as `onedrive` (the server names it after the owner)."""
        for u in self.creds["users"]:
            if onedrive.name == u["displayName"]:
                return u
        raise StepFailed(f"no tenant user for OneDrive {onedrive.name!r}")


# ---------------------------------------------------------------------------------------------------------------
# A real SMTP server for "send".
# ---------------------------------------------------------------------------------------------------------------


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    async def wait_for(self, subject, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.messages:
                if m["subject"] == subject:
                    return m
            await asyncio.sleep(0.1)
        raise StepFailed(f"no message with subject {subject!r} arrived at the SMTP server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------------------------
# Calling the client.
# ---------------------------------------------------------------------------------------------------------------


class Api:
    """The client of one API version plus its generated models."""

    def __init__(self, vc, version):
        self.vc = vc
        self.v = version
        # Importing one operation first loads the models package the way the client does.
        vc.api("auth.token")
        self.models = importlib.import_module(f"veeam_365.{version}.models")

    def model(self, name):
        return getattr(self.models, name)

    async def call(self, op, expect, **kw):
        """Call an operation; the answer must parse into the model `expect` (None: an empty answer)."""
        res = await self.vc.call(self.vc.api(op), **kw)
        name = type(res).__name__
        if name == "RESTExceptionInfo":
            raise StepFailed(f"{op} answered an error: {short(res.to_dict())}")
        if expect is None:
            check(res is None, f"{op}: expected an empty answer, got {name}")
        else:
            check(name == expect, f"{op}: expected {expect}, got {name}: {short(res)}")
        return res

    async def raw(self, op, **kw):
        """An operation whose answer is a binary body, which the generated parser cannot read (it hands the bytes
        to a model's from_dict): the request is built by the generated module and sent through the client's own
        authenticated HTTP client; the bytes are returned."""
        mod = importlib.import_module(f"veeam_365.{self.v}.api.{op}")

        async def send(client, **kwargs):
            return await client.get_async_httpx_client().request(**mod._get_kwargs(**kwargs))

        resp = await self.vc.call(send, **kw)
        check(resp.status_code == 200, f"{op}: HTTP {resp.status_code}: {resp.text[:500]}")
        return resp.content


def short(value, limit=600):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def documents_page(version):
    # v7 and v8 list documents as composed items (they may carry folders, `includeFolders`); v6 as documents.
    return "PageOfRESTOneDriveDocument" if version == "v6" else "PageOfRESTItemComposed"


def results(page):
    return list(page.results or [])


def unset(value):
    return value is None or type(value).__name__ == "Unset"


# ---------------------------------------------------------------------------------------------------------------
# The scenario.
# ---------------------------------------------------------------------------------------------------------------


async def logon(args, version):
    vc = VeeamClient(
        host=args.url, username=args.user, password=args.password, api_version=version, verify_ssl=False, timeout=120
    )
    await vc.connect()
    check(vc._access_token, "no access token after connect")
    return vc


async def organizations(api):
    page = await api.call("organization.organization_get", _org_page(api.v))
    orgs = page if isinstance(page, list) else results(page)
    names = [o.name for o in orgs]
    check("contoso" in names, f"organization contoso not listed: {names}")
    return next(o for o in orgs if o.name == "contoso")


def _org_page(version):
    # v6/v7 answer a list of organizations; v8 a page of composed organizations (from the client's signatures).
    return {"v6": "list", "v7": "list", "v8": "PageOfRestOrganizationComposed"}[version]


async def explore(api, org, kind):
    now = datetime.datetime.now(datetime.timezone.utc)
    if api.v == "v8":
        body = api.model("RESTOrganizationExploreOptions")(
            date_time=now, type_=api.model("RESTOrganizationExploreOptionsType")(kind), show_deleted=True,
            show_all_versions=True,
        )
        session = await api.call("organization.organization_explore", "RESTRestoreSession", organization_id=org.id, body=body)
    else:
        body = api.model("RESTExploreOptions")(
            date_time=now, type_=api.model("RESTExploreOptionsType")(kind), show_deleted=True, show_all_versions=True
        )
        session = await api.call(
            "organization.organization_explore_action", "RESTRestoreSession", organization_id=org.id, body=body
        )
    check(session.type_.value == kind, f"session type {session.type_} != {kind}")
    check(session.state.value == "Working", f"new session state {session.state}")
    return session


async def find_demo_onedrive(api, sid):
    """The OneDrive the demo changed between its two backups (it holds 'Renamed by the demo.txt')."""
    drives = results(await api.call("one_drive.one_drive_get", "PageOfRESTOneDrive", restore_session_id=sid))
    check(len(drives) >= 2, f"expected the demo's OneDrives, got {len(drives)}")
    for od in drives:
        docs = results(
            await api.call(
                "one_drive_document.one_drive_document_get", documents_page(api.v), restore_session_id=sid,
                one_drive_id=od.id, limit=1000,
            )
        )
        if any(d.name == "Renamed by the demo.txt" for d in docs):
            other = next(o for o in drives if o.id != od.id)
            return od, other, docs
    raise StepFailed(f"no OneDrive holds the demo's renamed document: {[d.name for d in drives]}")


async def browse_onedrive(api, sid, od, docs):
    names = [d.name for d in docs]
    check("Added after the first backup.txt" in names, f"added document missing: {names[:20]}")
    folders = results(
        await api.call(
            "one_drive_folder.one_drive_folder_get", "PageOfRESTOneDriveFolder", restore_session_id=sid,
            one_drive_id=od.id,
        )
    )
    check(any(f.name == "Demo" for f in folders), f"folder Demo missing: {[f.name for f in folders]}")
    # A seeded document with earlier versions (showAllVersions is on).
    for d in docs:
        if d.name.endswith(".txt") and d.name.startswith(("Renamed", "Added")):
            continue
        versions = results(
            await api.call(
                "one_drive_document.one_drive_document_get_versions", "PageOfRESTOneDriveDocument",
                restore_session_id=sid, one_drive_id=od.id, document_id=d.id,
            )
        )
        if versions:
            check(all(v.id == d.id for v in versions), "versions carry the document's id")
            one = await api.call(
                "one_drive_document.one_drive_document_get_by_id", "RESTOneDriveDocument", restore_session_id=sid,
                one_drive_id=od.id, document_id=d.id,
            )
            check(one.name == d.name, f"document by id: {one.name} != {d.name}")
            return d, versions
    raise StepFailed("no document with earlier versions")


async def save(api, tenant, sid, od, doc):
    M = api.model
    data = await api.raw(
        "one_drive_document.one_drive_document_save_document_action", restore_session_id=sid, one_drive_id=od.id,
        document_id=doc.id, body=M("RESTSaveOneDriveDocumentOptions")(as_zip=False),
    )
    drive = tenant.owner(od)["driveId"]
    held = await tenant.content(drive, doc.id)
    check(data == held, f"saved {len(data)} bytes differ from the emulator's {len(held)}")
    zipped = await api.raw(
        "one_drive_document.one_drive_document_save_document_action", restore_session_id=sid, one_drive_id=od.id,
        document_id=doc.id, body=M("RESTSaveOneDriveDocumentOptions")(as_zip=True),
    )
    with zipfile.ZipFile(io.BytesIO(zipped)) as z:
        entries = z.namelist()
        check(len(entries) == 1, f"zip entries {entries}")
        check(z.read(entries[0]) == held, "zipped document differs from the emulator's")
    return drive, held


async def save_version(api, tenant, sid, od, doc, versions, drive):
    older = versions[-1]  # the oldest previous version
    check(not unset(older.version_id), f"version {older.version} has no versionId")
    data = await api.raw(
        "one_drive_document.one_drive_document_save_document_action_by_version_id", restore_session_id=sid,
        one_drive_id=od.id, document_id=doc.id, version_id=older.version_id,
        body=api.model("RESTSaveOneDriveDocumentOptions")(as_zip=False),
    )
    check(len(data) == older.size_bytes, f"version {older.version}: {len(data)} bytes, listed {older.size_bytes}")


async def send(api, sid, od, doc, held, inbox, smtp_port):
    M = api.model
    settings = M("RESTSharePointSmtpSettingsFromClient")(
        enable_notification=True, server="127.0.0.1", port=smtp_port, from_="vault365@contoso.example",
        use_authentication=False, use_ssl=False,
    )
    await api.call("veod_email_settings.veod_email_settings_update", None, body=settings)
    got = await api.call("veod_email_settings.veod_email_settings_get", "RESTSharePointSmtpSettings")
    check((got.server, got.port) == ("127.0.0.1", smtp_port), f"settings read back: {got.server}:{got.port}")
    subject = f"veeam-365 {api.v} send"
    await api.call(
        "one_drive_document.one_drive_document_send_document_action", None, restore_session_id=sid,
        one_drive_id=od.id, document_id=doc.id,
        body=M("RESTSendAsMsgOptionsV6")(
            from_="vault365@contoso.example", to="auditor@contoso.example", subject=subject, text="As requested."
        ),
    )
    msg = await inbox.wait_for(subject)
    attached = [p for p in msg.iter_attachments()]
    check(len(attached) == 1, f"attachments: {[p.get_filename() for p in attached]}")
    check(attached[0].get_filename() == doc.name, f"attachment name {attached[0].get_filename()!r}")
    check(attached[0].get_content() == held, "attached bytes differ from the emulator's")


async def wait_stopped(api, session_id, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        s = await api.call(
            "restore_session.restore_session_get_by_restore_session_id", "RESTRestoreSession",
            restore_session_id=session_id,
        )
        if s.state.value == "Stopped":
            return s
        check(time.monotonic() < deadline, f"restore session {session_id} still {s.state.value}")
        await asyncio.sleep(0.5)


async def restore_outcome(api, answer):
    """v6/v7 answer the statistics; v8 answers a session id to poll, then its statistics."""
    if api.v != "v8":
        return answer.restored_items_count, answer.failed_items_count
    await wait_stopped(api, answer.session_id)
    await events(api, answer.session_id, ["Restore"])
    stats = await api.call(
        "restore_session.restore_session_get_restore_statistics", "RESTRestoreSessionStatistics",
        restore_session_id=answer.session_id,
    )
    return stats.restored_items_count, stats.failed_items_count


def credentials(owner):
    """Restores sign in as the OneDrive's owner (resource owner password credentials)."""
    return {"user_name": owner["userPrincipalName"], "user_password": owner["password"]}


async def restore(api, tenant, sid, od, doc, drive, held):
    M = api.model
    await tenant.put_content(drive, doc.id, f"Overwritten before the {api.v} restore.".encode())
    check(await tenant.content(drive, doc.id) != held, "the tenant copy changed")
    expect = "RESTAsyncRestoreResponse" if api.v == "v8" else "RESTItemRestoreStatistics"
    try:
        answer = await api.call(
            "one_drive_document.one_drive_document_restore_document_action", expect, restore_session_id=sid,
            one_drive_id=od.id, document_id=doc.id,
            body=M("RESTRestoreToOriginal")(
                document_action=M("RESTRestoreToOriginalDocumentAction")("Overwrite"),
                **credentials(tenant.owner(od)),
            ),
        )
        restored, failed = await restore_outcome(api, answer)
        check((restored, failed) == (1, 0), f"restored {restored}, failed {failed}")
        check(await tenant.content(drive, doc.id) == held, "the tenant holds other bytes than the backup")
    finally:
        # Whatever happened, the next version's checks start from the backed-up bytes.
        if await tenant.content(drive, doc.id) != held:
            await tenant.put_content(drive, doc.id, held)


async def copy_to(api, tenant, sid, od, doc, target):
    M = api.model
    # A folder of its own per run: copying onto an identical earlier copy would (rightly) be skipped as unchanged.
    folder = f"Copied by veeam-365 {api.v} {RUN}"
    expect = "RESTAsyncRestoreResponse" if api.v == "v8" else "RESTItemRestoreStatistics"
    answer = await api.call(
        "one_drive_document.one_drive_document_copy_to_document_action", expect, restore_session_id=sid,
        one_drive_id=od.id, document_id=doc.id,
        body=M("RESTCopyToDocument")(
            onedrive=target, folder=folder, document_version=M("RESTCopyToDocumentDocumentVersion")("Last"),
            document_last_version_action=M("RESTCopyToDocumentDocumentLastVersionAction")("Overwrite"),
            **credentials(tenant.owner(od)),
        ),
    )
    restored, failed = await restore_outcome(api, answer)
    check((restored, failed) == (1, 0), f"copied {restored}, failed {failed}")
    return folder


async def copied_bytes(tenant, target_drive, folder, doc, held):
    # Search the whole target drive: the copy lands below the folder (possibly under its original path).
    stack = [folder]
    while stack:
        path = stack.pop()
        for child in await tenant.children_by_path(target_drive, path):
            if "folder" in child:
                stack.append(f"{path}/{child['name']}")
            elif child["name"] == doc.name:
                data = await tenant.content(target_drive, child["id"])
                check(data == held, "the copy's bytes differ from the backup")
                return
    raise StepFailed(f"{doc.name} not found below {folder} in the target OneDrive")


async def events(api, sid, expected):
    """The session's events (paged and one by one) include one of each expected type."""
    page = await api.call(
        "restore_session_event.restore_session_event_get", "PageOfRESTRestoreSessionEvent", restore_session_id=sid
    )
    evs = results(page)
    types = sorted({e.type_.value for e in evs if not unset(e.type_)})
    check(set(expected) <= set(types), f"event types {types}, expected {expected}")
    first = await api.call(
        "restore_session_event.restore_session_event_get_by_id", "RESTRestoreSessionEvent", restore_session_id=sid,
        event_id=evs[0].id,
    )
    check((first.id, first.message) == (evs[0].id, evs[0].message), "event by id differs from the page's")
    return evs


async def stop(api, sid):
    await api.call("restore_session.restore_session_stop_action", None, restore_session_id=sid)
    s = await api.call(
        "restore_session.restore_session_get_by_restore_session_id", "RESTRestoreSession", restore_session_id=sid
    )
    check(s.state.value == "Stopped", f"state after stop: {s.state.value}")


async def sharepoint(api, tenant, org):
    session = await explore(api, org, "Vesp")
    sid = session.id
    sites = results(await api.call("share_point_site.share_point_site_get", "PageOfRESTSharePointSite", restore_session_id=sid))
    check(len(sites) >= 2, f"sites: {[s.name for s in sites]}")
    found = 0
    for site in sites:
        lists = results(
            await api.call(
                "share_point_list.share_point_list_get", "PageOfRESTSharePointList", restore_session_id=sid,
                site_id=site.id,
            )
        )
        for lst in lists:
            items = results(
                await api.call(
                    "share_point_item.share_point_item_get", "PageOfRESTSharePointItem", restore_session_id=sid,
                    site_id=site.id, parent_id=lst.id,
                )
            )
            for item in items:
                atts = results(
                    await api.call(
                        "share_point_attachment.share_point_attachment_get", "PageOfRESTSharePointAttachment",
                        restore_session_id=sid, site_id=site.id, item_id=item.id,
                    )
                )
                for att in atts:
                    data = await api.raw(
                        "share_point_attachment.share_point_attachment_save_attachment_action",
                        restore_session_id=sid, site_id=site.id, item_id=item.id, attachment_id=att.id,
                    )
                    held = await tenant.attachment(site.url, lst.name, item.title, att.name)
                    check(data == held, f"attachment {att.name}: {len(data)} bytes differ from the tenant's {len(held)}")
                    found += 1
                    if found >= 2:
                        await stop(api, sid)
                        return found
    check(found > 0, "no attachments in any list")
    await stop(api, sid)
    return found


async def one_version(args, tenant, inbox, smtp_port, version):
    print(f"--- {version}", flush=True)
    vc = await step(f"{version} connect", logon(args, version))
    if vc is None:
        return
    try:
        api = Api(vc, version)
        org = await step(f"{version} organizations", organizations(api))
        if org is None:
            return
        session = await step(f"{version} explore OneDrive", explore(api, org, "Veod"))
        if session is None:
            return
        sid = session.id
        found = await step(f"{version} list OneDrives and documents", find_demo_onedrive(api, sid))
        if found is None:
            return
        od, other, docs = found
        doc_versions = await step(f"{version} browse folders, document, versions", browse_onedrive(api, sid, od, docs))
        if doc_versions is None:
            return
        doc, versions = doc_versions
        saved = await step(f"{version} save document (raw and zip) = emulator bytes", save(api, tenant, sid, od, doc))
        if saved is not None:
            drive, held = saved
            await step(f"{version} save older version", save_version(api, tenant, sid, od, doc, versions, drive))
            await step(f"{version} email settings + send", send(api, sid, od, doc, held, inbox, smtp_port))
            await step(f"{version} restore to original", restore(api, tenant, sid, od, doc, drive, held))
            folder = await step(f"{version} copyTo another OneDrive", copy_to(api, tenant, sid, od, doc, other))
            if folder is not None:
                other_drive = tenant.owner(other)["driveId"]
                await step(f"{version} copy arrived", copied_bytes(tenant, other_drive, folder, doc, held))
        # v8 records restores in their own operation sessions (checked with their statistics above).
        kinds = ["Save", "Send"] if version == "v8" else ["Save", "Send", "Restore"]
        await step(f"{version} events", events(api, sid, kinds))
        await step(f"{version} stop", stop(api, sid))
        await step(f"{version} SharePoint sites, lists, items, attachments", sharepoint(api, tenant, org))
        if version == "v8":  # jobs are created from v8 on; v8 is the first era with a logout operation
            await step(f"{version} create, start and remove a job; read its session and log", jobs(api, org))
            await step(f"{version} logout", logout(api))
    finally:
        await vc.close()


async def jobs(api, org):
    """v8 job lifecycle: create a scheduled job, start it, follow its session to the end, read its log, remove it."""
    M = api.model
    existing = results(await api.call("job.job_get", "PageOfRESTJob"))
    check(existing, "the demo's backups belong to a job")
    policy = M("RESTJobSchedulePolicy")(
        type_=M("RESTJobSchedulePolicyType")("Daily"),
        daily_type=M("RESTJobSchedulePolicyDailyType")("Everyday"),
        daily_time="22:00:00",
        retry_enabled=False,
    )
    body = M("RESTCreateBackupJob")(
        backup_type=M("RESTCreateBackupJobBackupType")("EntireOrganization"),
        organization_id=org.id,
        repository_id=existing[0].repository_id,
        name="acceptance nightly",
        description="created by the veeam-365 client",
        schedule_policy=policy,
        is_enabled=True,
    )
    job = await api.call("job.job_add", "RESTJob", body=body)
    check(not unset(job.next_run) and job.next_run.hour == 22, f"next run at 22:00: {job.next_run}")
    check(job.schedule_policy.daily_time == "22:00:00", f"schedule shown back: {short(job.schedule_policy)}")
    session = await api.call(
        "job.job_start_action", "RESTJobSession", job_id=job.id, body=M("RESTStartJobOptions")(full=False)
    )
    check(session.job_id == job.id, f"the session is the job's: {short(session)}")
    deadline = time.monotonic() + 120
    while True:
        session = await api.call("job_session.job_session_get_by_id", "RESTJobSession", job_sessions_id=session.id)
        if session.status.value != "Running" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    check(session.status.value == "Success", f"the run ended {session.status.value}: {short(session)}")
    check(not unset(session.end_time), "an ended session has its end time")
    log = await api.call(
        "job_session_log.job_session_log_get_batch_by_session_id", "PageOfRESTLogItem", session_id=session.id
    )
    check(results(log), "the run logged its work")
    await api.call("job.job_remove", None, job_id=job.id)
    remaining = [j.name for j in results(await api.call("job.job_get", "PageOfRESTJob"))]
    check("acceptance nightly" not in remaining, f"removed: {remaining}")


async def logout(api):
    await api.call("auth.logout", None)
    # The token is revoked: the next call with it is refused (401 with a body the client reads as an error).
    mod = importlib.import_module(f"veeam_365.{api.v}.api.organization.organization_get")
    resp = await api.vc._client.get_async_httpx_client().request(**mod._get_kwargs())
    check(resp.status_code == 401, f"a revoked token answered {resp.status_code}")


async def detect(url):
    # The client's own discovery: anonymous /{version}/ServiceInstance probes, 401 where a version is served.
    found = await detect_api_version(url, verify_ssl=False)
    check(found == "v8", f"detect_api_version found {found!r}")


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--emulator", required=True)
    p.add_argument("--versions", default="v6,v7,v8")
    args = p.parse_args()

    tenant = Tenant(args.emulator)
    await tenant.start()
    inbox = Inbox()
    smtp_port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        await step("detect the API version", detect(args.url))
        for version in args.versions.split(","):
            await one_version(args, tenant, inbox, smtp_port, version)
    finally:
        smtp.stop()
        await tenant.http.aclose()
    print(f"{len(PASSED)} checks passed, {len(FAILURES)} failed", flush=True)
    if FAILURES:
        print("FAILED:\n  " + "\n  ".join(FAILURES), flush=True)
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
