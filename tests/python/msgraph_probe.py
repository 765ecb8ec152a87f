#!/usr/bin/env python3
"""Conformance probe: Microsoft's msgraph-sdk (kiota) against a running vault365 emulator.

Usage: msgraph_probe.py BASE_URL   (e.g. http://127.0.0.1:5555)

Signs in with the emulator's default app (client secret, token endpoint over http), then through the
official SDK: reads a user's drive, lists root children page by page, uploads a file twice, lists and
downloads versions, runs delta with a small page size following nextLink/deltaLink, and checks that
the SDK's retry handler honours an injected 429 + Retry-After. Exits non-zero on the first failure.
"""

import asyncio
import base64
import json
import sys
import time
import traceback
import urllib.parse
import urllib.request

from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient

CHECKS = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    CHECKS.append(what)


def control(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{base}/_emulator{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def quick_xor(data: bytes) -> str:
    """quickXorHash (graph-notes §10), written independently of the emulator's implementation."""
    width, shift = 160, 11
    h = 0
    mask = (1 << width) - 1
    for i, b in enumerate(data):
        v = b << ((i * shift) % width)
        h ^= (v & mask) | (v >> width)
    out = bytearray(h.to_bytes(20, "little"))
    for k, lb in enumerate(len(data).to_bytes(8, "little")):
        out[12 + k] ^= lb
    return base64.b64encode(bytes(out)).decode()


class EmulatorTokenProvider(AccessTokenProvider):
    """Client-credentials tokens from the emulator's Entra token endpoint (plain http on loopback)."""

    def __init__(self, token_url, client_id, secret, host):
        self.token_url, self.client_id, self.secret = token_url, client_id, secret
        self.validator = AllowedHostsValidator([host])
        self.token, self.expires = None, 0.0
        self.fetched = 0

    def _fetch(self):
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.secret,
            "scope": "https://graph.microsoft.com/.default",
        }).encode()
        with urllib.request.urlopen(self.token_url, form, timeout=30) as resp:
            return json.loads(resp.read())

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        if not self.validator.is_url_host_valid(uri):
            return ""
        if self.token is None or time.time() > self.expires - 60:
            body = await asyncio.to_thread(self._fetch)
            self.token = body["access_token"]
            self.expires = time.time() + int(body["expires_in"])
            self.fetched += 1
        return self.token

    def get_allowed_hosts_validator(self):
        return self.validator


async def all_pages(first_page, builder):
    """Follow @odata.nextLink with the SDK's with_url; returns (items, pages, last page)."""
    page, items, pages = first_page, [], 1
    items.extend(page.value or [])
    while page.odata_next_link:
        page = await builder.with_url(page.odata_next_link).get()
        items.extend(page.value or [])
        pages += 1
        check(pages < 1000, "paging terminates")
    return items, pages, page


async def delta_round(drive, link=None):
    root = drive.items.by_drive_item_id("root")
    page = await (root.delta.with_url(link).get() if link else root.delta.get())
    items, pages = list(page.value or []), 1
    while page.odata_next_link:
        check(not page.odata_delta_link, "a delta page has nextLink or deltaLink, not both")
        page = await root.delta.with_url(page.odata_next_link).get()
        items.extend(page.value or [])
        pages += 1
        check(pages < 1000, "delta terminates")
    check(page.odata_delta_link and page.odata_delta_link.startswith(BASE), "delta ends with an absolute deltaLink")
    return items, pages, page.odata_delta_link


async def probe(base):
    creds = control(base, "GET", "/credentials")
    host = urllib.parse.urlparse(base).hostname
    provider = EmulatorTokenProvider(creds["tokenEndpoint"], creds["clientId"], creds["clientSecret"], host)
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(provider))
    adapter.base_url = f"{base}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    check(creds["users"], "the tenant has users")
    upn = creds["users"][0]["userPrincipalName"]
    old_settings = control(base, "GET", "/settings")
    control(base, "PATCH", "/settings", {"page_size": 2})
    try:
        user_drive = await client.users.by_user_id(upn).drive.get()
        check(user_drive is not None and user_drive.id, "users/{upn}/drive returns a drive")
        check(user_drive.drive_type == "business", f"OneDrive driveType is business ({user_drive.drive_type})")
        drive_id = user_drive.id
        drive = client.drives.by_drive_id(drive_id)

        # Root children, two per page.
        state = control(base, "GET", "/state?only=items,drives")
        root_id = state["drives"][drive_id]["root_id"]
        expected = {i["id"] for i in state["items"].values() if i["parent_id"] == root_id and not i.get("deleted")}
        children = drive.items.by_drive_item_id("root").children
        kids, pages, _ = await all_pages(await children.get(), children)
        check({k.id for k in kids} == expected, f"root children match the emulator state ({len(kids)} items)")
        check(len(expected) <= 2 or pages > 1, f"children were paged ({pages} pages)")
        for k in kids:
            check(k.name and k.e_tag and k.parent_reference.drive_id == drive_id, f"child {k.name} is well-formed")

        # Upload twice (simple upload by path) → two versions.
        v1, v2 = b"probe version one\n", b"probe version two, a little longer\n"
        name = f"hello-{time.time_ns()}.txt"
        target = drive.items.by_drive_item_id(f"root:/msgraph-probe/{name}:")
        item = await target.content.put(v1)
        check(item is not None and item.id and item.name == name, "PUT content creates the file")
        check(item.size == len(v1), "uploaded size")
        check(item.file.hashes.quick_xor_hash == quick_xor(v1), "quickXorHash of version 1")
        item2 = await target.content.put(v2)
        check(item2.id == item.id, "second PUT updates the same item")
        check(item2.file.hashes.quick_xor_hash == quick_xor(v2), "quickXorHash of version 2")
        check(item2.c_tag != item.c_tag and item2.e_tag != item.e_tag, "content change bumps eTag and cTag")
        by_id = drive.items.by_drive_item_id(item.id)
        got = await by_id.content.get()
        check(got == v2, "download returns the current content")
        vs, _, _ = await all_pages(await by_id.versions.get(), by_id.versions)
        check(len(vs) == 2, f"two versions listed ({len(vs)})")
        sizes = sorted(v.size for v in vs)
        check(sizes == sorted([len(v1), len(v2)]), "version sizes")
        check(vs[0].size == len(v2), "versions are listed newest first")
        older = vs[1]
        old_bytes = await by_id.versions.by_drive_item_version_id(older.id).content.get()
        check(old_bytes == v1, "the older version's content is version 1")

        # Delta: full round with small pages, then an incremental round after a change.
        items, pages, link = await delta_round(drive)
        ids = {i.id for i in items}
        live = {i["id"] for i in state["items"].values()
                if i["drive_id"] == drive_id and not i.get("deleted")}
        check(live <= ids, "initial delta returns every item of the drive")
        check(item.id in ids, "initial delta contains the uploaded file")
        check(pages > 1, f"delta was paged ({pages} pages)")
        empty, _, link2 = await delta_round(drive, link)
        check(all(i.id != item.id for i in empty), "no change → the uploaded file is not in the next round")
        await target.content.put(b"third\n")
        changed, _, _ = await delta_round(drive, link2)
        mine = [i for i in changed if i.id == item.id]
        check(len(mine) == 1 and mine[0].size == 6, "incremental delta reports the changed file")

        # Throttling: the SDK's RetryHandler waits Retry-After and retries transparently.
        control(base, "DELETE", "/stats")
        control(base, "POST", "/faults", {"pathContains": "/children", "status": 429, "retryAfter": 1, "count": 1})
        started = time.time()
        page = await children.get()
        check(page is not None and page.value is not None, "a throttled request succeeds after the retry")
        stats = control(base, "GET", "/stats")
        check(stats["throttled"] == 1 and stats["total"] >= 2, f"the SDK retried after 429 ({stats['total']} requests)")
        check(time.time() - started >= 0.9, "the SDK waited for Retry-After")
        check(provider.fetched >= 1, "tokens came from the emulator's token endpoint")
    finally:
        control(base, "DELETE", "/faults")
        control(base, "PATCH", "/settings", {"page_size": old_settings["page_size"]})


BASE = ""


def main():
    global BASE
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    BASE = sys.argv[1].rstrip("/")
    try:
        asyncio.run(probe(BASE))
    except Exception as e:  # noqa: BLE001 - report any failure, with what passed before it
        err = getattr(e, "error", None)
        detail = f" [{err.code}: {err.message}]" if err is not None and hasattr(err, "code") else ""
        traceback.print_exc(limit=4)
        print(f"msgraph-sdk probe FAILED after {len(CHECKS)} checks: {type(e).__name__}: {e}{detail}", file=sys.stderr)
        return 1
    print(f"msgraph-sdk probe: {len(CHECKS)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
