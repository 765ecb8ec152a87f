//! The Veeam dialect at the edge of the API; knows no resource: versions and eras, errors in each era's shape,
//! case-insensitive path canonicalisation, lenient JSON bodies and queries, paging and HAL links, and the middleware
//! that applies them before routing.

pub mod body_deadline;
pub mod era;
pub mod error;
pub mod extract;
pub mod lenient;
pub mod middleware;
pub mod paging;
pub mod paths;
pub mod query;
pub mod segments;
pub mod version;
