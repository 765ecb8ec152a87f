//! The catalog as a restore session sees it: the children of a folder, the whole tree below one, and an item's
//! numbered version history, all as of the session's instant. The walks are the engine's ([`engine::selection`]),
//! which plans save and send from them; the contexts and browse operations list with the same ones, re-exported here.

pub use engine::selection::{all_children, numbered_versions, walk_tree, NumberedVersion, MAX_RECURSIVE_ROWS};
