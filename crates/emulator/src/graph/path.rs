//! Parsing Graph URL paths, including OneDrive's colon path addressing
//! (`/drives/{d}/root:/Folder/a.txt:/content`, `/sites/{host}:/sites/finance`).

use percent_encoding::percent_decode_str;

/// One step of a Graph path: a plain segment, or a colon-delimited relative path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Name(String),
    /// `base:` followed by path components (decoded), as in `root:/a/b:`.
    Colon(String, Vec<String>),
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Split a raw (still percent-encoded) path into segments.
pub fn split(raw: &str) -> Vec<Seg> {
    let parts: Vec<&str> = raw.trim_matches('/').split('/').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let p = parts[i];
        if p.is_empty() {
            i += 1;
            continue;
        }
        // `root:` or `{id}:` starts a path; `root:` with the path in the same segment cannot happen
        // because the path starts with '/'.
        let decoded = decode(p);
        // The SDKs pass a whole `root:/a/b.txt:` as one percent-encoded id segment
        // (`items/root%3A%2Fa%2Fb.txt%3A`), which Graph accepts.
        if let Some((base, rest)) = decoded.split_once(":/") {
            if let Some(inner) = rest.strip_suffix(':').or((i + 1 == parts.len()).then_some(rest)) {
                let comps = inner.split('/').filter(|c| !c.is_empty()).map(str::to_string).collect();
                out.push(Seg::Colon(base.to_string(), comps));
                i += 1;
                continue;
            }
        }
        if let Some(base) = decoded.strip_suffix(':') {
            let mut comps = Vec::new();
            i += 1;
            while i < parts.len() {
                let c = decode(parts[i]);
                i += 1;
                if let Some(last) = c.strip_suffix(':') {
                    if !last.is_empty() {
                        comps.push(last.to_string());
                    }
                    break;
                }
                comps.push(c);
            }
            out.push(Seg::Colon(base.to_string(), comps));
            continue;
        }
        out.push(Seg::Name(decoded));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Seg {
        Seg::Name(s.into())
    }

    #[test]
    fn colon_paths() {
        assert_eq!(
            split("/drives/b!x/root:/Folder/a%20b.txt:/content"),
            vec![
                n("drives"),
                n("b!x"),
                Seg::Colon("root".into(), vec!["Folder".into(), "a b.txt".into()]),
                n("content")
            ]
        );
        assert_eq!(
            split("/drives/d/root:/Folder/a.txt"),
            vec![n("drives"), n("d"), Seg::Colon("root".into(), vec!["Folder".into(), "a.txt".into()])]
        );
        assert_eq!(
            split("/drives/d/items/01AB:/new.txt:/createUploadSession"),
            vec![
                n("drives"),
                n("d"),
                n("items"),
                Seg::Colon("01AB".into(), vec!["new.txt".into()]),
                n("createUploadSession")
            ]
        );
        assert_eq!(
            split("/sites/contoso.sharepoint.com:/sites/finance"),
            vec![n("sites"), Seg::Colon("contoso.sharepoint.com".into(), vec!["sites".into(), "finance".into()])]
        );
        assert_eq!(split("/drives/d/root:/:/children").len(), 4);
        assert_eq!(
            split("/drives/d/items/root%3A%2FFolder%2Fa.txt%3A/content"),
            vec![
                n("drives"),
                n("d"),
                n("items"),
                Seg::Colon("root".into(), vec!["Folder".into(), "a.txt".into()]),
                n("content")
            ]
        );
    }
}
