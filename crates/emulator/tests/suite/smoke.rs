//! The harness itself: an app token works against Graph; no token is a Graph 401.

use crate::common;

use common::*;

#[tokio::test]
async fn token_then_graph_call() {
    let t = TestTenant::start("users=1").await;
    let (status, body) = t.get("not-a-token", "/users").await;
    assert_eq!(status, 401);
    assert_graph_error(&body, "InvalidAuthenticationToken");
    let token = t.graph_token().await;
    let (_, upn, drive) = t.user(0);
    assert!(t.emu.emu.state().drives.contains_key(&drive));
    assert!(upn.ends_with("@contoso.onmicrosoft.com"));
    let (status, _) = t.get(&token, "/nonsense").await;
    assert_eq!(status, 400);
}
