//! Contract test: every JSON property the emulator returns for Graph entities must exist, with the
//! same spelling, in Microsoft's published schema (`v1.0-Prod.csdl` in shared/reference), including
//! the properties of nested complex types. Catches `sharePointIds` vs `sharepointIds` style slips.

use crate::common;

use std::collections::HashMap;

use common::*;
use serde_json::Value;

struct Schema {
    /// type name without namespace → (base type, property name → type)
    types: HashMap<String, (Option<String>, HashMap<String, String>)>,
}

impl Schema {
    fn load() -> Schema {
        // A zstd copy of shared/reference/msgraph/v1.0-Prod.csdl, kept in the repository so that a clean clone
        // (CI) has it.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1.0-Prod.csdl.zst");
        let packed = std::fs::read(&path).unwrap_or_else(|e| panic!("CSDL at {}: {e}", path.display()));
        let xml = String::from_utf8(zstd::decode_all(&packed[..]).expect("CSDL decompresses")).expect("CSDL is UTF-8");
        let doc = roxmltree::Document::parse_with_options(
            &xml,
            roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() },
        )
        .expect("CSDL parses");
        let mut types = HashMap::new();
        // Other namespaces (callRecords, externalConnectors, …) reuse names like `user`; only
        // microsoft.graph is the schema of the endpoints we imitate.
        let graph = doc
            .descendants()
            .find(|n| n.has_tag_name("Schema") && n.attribute("Namespace") == Some("microsoft.graph"))
            .expect("microsoft.graph schema");
        for node in graph.children().filter(|n| n.has_tag_name("EntityType") || n.has_tag_name("ComplexType")) {
            let name = node.attribute("Name").unwrap().to_string();
            let base = node.attribute("BaseType").map(|b| b.trim_start_matches("graph.").to_string());
            let props = node
                .children()
                .filter(|c| c.has_tag_name("Property") || c.has_tag_name("NavigationProperty"))
                .map(|c| (c.attribute("Name").unwrap().to_string(), c.attribute("Type").unwrap_or("").to_string()))
                .collect();
            types.insert(name, (base, props));
        }
        Schema { types }
    }

    fn property(&self, ty: &str, name: &str) -> Option<String> {
        let mut cur = Some(ty.to_string());
        while let Some(t) = cur {
            let (base, props) = self.types.get(&t)?;
            if let Some(p) = props.get(name) {
                return Some(p.clone());
            }
            cur = base.clone();
        }
        None
    }

    /// Collect every property path in `v` that `ty` does not define.
    fn check(&self, ty: &str, v: &Value, at: &str, errors: &mut Vec<String>) {
        let Value::Object(map) = v else { return };
        for (k, val) in map {
            if k.starts_with('@') || k.contains("@odata") {
                continue;
            }
            // `email` on identities is what ODB/SPO return in practice (graph-notes §2.2 [O]); the
            // schema declares `identity` open but does not list it.
            if ty == "identity" && k == "email" {
                continue;
            }
            match self.property(ty, k) {
                None => errors.push(format!("{at}.{k} is not a property of graph.{ty}")),
                Some(t) => {
                    let inner = t.trim_start_matches("Collection(").trim_end_matches(')');
                    if let Some(name) = inner.strip_prefix("graph.") {
                        if name == "fieldValueSet" {
                            continue; // open dictionary of column names
                        }
                        match val {
                            Value::Array(a) => {
                                a.iter().for_each(|x| self.check(name, x, &format!("{at}.{k}[]"), errors))
                            }
                            _ => self.check(name, val, &format!("{at}.{k}"), errors),
                        }
                    }
                }
            }
        }
    }
}

fn values(v: &Value) -> Vec<Value> {
    v["value"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn emulator_json_uses_graph_schema_names() {
    let schema = Schema::load();
    let t = TestTenant::start("users=3,files=30,versions=2,sites=1").await;
    let token = t.graph_token().await;
    let (_, upn, drive) = t.user(0);
    let mut checked: Vec<(String, Value)> = Vec::new();
    let mut get = |ty: &str, v: Value| checked.push((ty.to_string(), v));

    let (_, users) = t.get(&token, "/users").await;
    values(&users).into_iter().for_each(|u| get("user", u));
    let (_, d) = t.get(&token, &format!("/users/{upn}/drive")).await;
    get("drive", d);
    let (_, kids) = t.get(&token, &format!("/drives/{drive}/root/children")).await;
    let kids = values(&kids);
    assert!(!kids.is_empty(), "seeded drive has children");
    let (_, delta) = t.get(&token, &format!("/drives/{drive}/root/delta")).await;
    values(&delta).into_iter().for_each(|i| get("driveItem", i));
    let file = values(&delta).into_iter().find(|i| i.get("file").is_some()).expect("a seeded file");
    let fid = file["id"].as_str().unwrap().to_string();
    for k in kids {
        get("driveItem", k);
    }
    let (_, versions) = t.get(&token, &format!("/drives/{drive}/items/{fid}/versions")).await;
    values(&versions).into_iter().for_each(|v| get("driveItemVersion", v));
    let (_, perms) = t.get(&token, &format!("/drives/{drive}/root/permissions")).await;
    values(&perms).into_iter().for_each(|p| get("permission", p));
    let (_, sites) = t.get(&token, "/sites?search=*").await;
    let sites = values(&sites);
    assert!(!sites.is_empty(), "seeded tenant has team sites");
    for s in &sites {
        get("site", s.clone());
        let sid = s["id"].as_str().unwrap();
        let (_, lists) = t.get(&token, &format!("/sites/{sid}/lists")).await;
        for l in values(&lists) {
            let lid = l["id"].as_str().unwrap().to_string();
            get("list", l);
            let (_, items) = t.get(&token, &format!("/sites/{sid}/lists/{lid}/items?expand=fields")).await;
            values(&items).into_iter().for_each(|i| get("listItem", i));
        }
    }
    let (_, session) = t
        .call(
            &token,
            reqwest::Method::POST,
            &format!("/drives/{drive}/root:/contract-check.bin:/createUploadSession"),
            Some(serde_json::json!({"item": {"@microsoft.graph.conflictBehavior": "rename"}})),
        )
        .await;
    get("uploadSession", session);

    let mut errors = Vec::new();
    for (ty, v) in &checked {
        assert!(v.is_object(), "{ty} response is an object: {v}");
        schema.check(ty, v, ty, &mut errors);
    }
    errors.sort();
    errors.dedup();
    assert!(errors.is_empty(), "properties not in the Graph schema:\n{}", errors.join("\n"));
    assert!(checked.len() > 20, "checked a meaningful sample ({} objects)", checked.len());
}
